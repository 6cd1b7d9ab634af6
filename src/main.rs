//! The widget document's entry point (see `index.html`).

fn main() {
    // A native build (cargo test of the workspace) has nothing to mount.
    #[cfg(target_arch = "wasm32")]
    confab_widget::mount();
}
