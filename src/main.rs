//! The widget document's entry point (see `index.html`).

fn main() {
    confab_widget::mount();
}
