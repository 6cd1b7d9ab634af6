//! JSON text ⇄ [`Json`] tree: one parser, one writer, no generic code.
//!
//! The parser accepts exactly RFC 8259 JSON (what serde_json accepts): one value, surrounded by
//! whitespace only; strings with every escape, surrogate pairs joined and lone surrogates
//! refused; no control characters inside strings. Nesting deeper than [`MAX_DEPTH`] is refused
//! rather than followed (the parser recurses once per level). Integers that fit an `i64` stay
//! exact; every other number is an `f64`.
//!
//! The writer writes the compact form serde_json writes: no spaces, `"` `\` and control
//! characters escaped, everything else (any Unicode) as it is.

use std::fmt::Write as _;

/// How deep arrays and objects may nest. serde_json's default limit is 128; frames nest less
/// than ten deep.
pub const MAX_DEPTH: usize = 128;

/// A JSON value. Objects keep their members in order (duplicates too: lookups find the first).
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    /// A number written without a fraction or exponent that fits an `i64`.
    Int(i64),
    /// Any other number.
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Why a text is not JSON: what was wrong and at which byte.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at byte {at}")]
pub struct SyntaxError {
    pub what: &'static str,
    pub at: usize,
}

impl Json {
    /// Parses one JSON value (with whitespace around it, and nothing else).
    pub fn parse(text: &str) -> Result<Json, SyntaxError> {
        let mut parser = Parser { bytes: text.as_bytes(), at: 0 };
        let value = parser.value(0)?;
        parser.skip_whitespace();
        if parser.at != parser.bytes.len() {
            return Err(parser.error("trailing characters"));
        }
        Ok(value)
    }

    /// The compact JSON text of this value.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    /// Appends the compact JSON text of this value to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            // JSON has no NaN or infinity; serde_json writes `null` for them too.
            Json::Float(f) if !f.is_finite() => out.push_str("null"),
            Json::Float(f) => {
                let _ = write!(out, "{f:?}");
            }
            Json::Str(s) => write_string(s, out),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Json::Object(members) => {
                out.push('{');
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(key, out);
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }

    /// The member `key` of an object (the first, if the text repeated it).
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0xf)] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn error(&self, what: &'static str) -> SyntaxError {
        SyntaxError { what, at: self.at }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.at) {
            self.at += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn expect_word(&mut self, word: &'static str, value: Json) -> Result<Json, SyntaxError> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, SyntaxError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("unexpected end")),
            Some(b'n') => self.expect_word("null", Json::Null),
            Some(b't') => self.expect_word("true", Json::Bool(true)),
            Some(b'f') => self.expect_word("false", Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                let depth = self.deeper(depth)?;
                let mut items = Vec::new();
                self.list(b']', "expected `,` or `]`", &mut |parser| {
                    items.push(parser.value(depth)?);
                    Ok(())
                })?;
                Ok(Json::Array(items))
            }
            Some(b'{') => {
                let depth = self.deeper(depth)?;
                let mut members = Vec::new();
                self.list(b'}', "expected `,` or `}`", &mut |parser| {
                    parser.skip_whitespace();
                    if parser.peek() != Some(b'"') {
                        return Err(parser.error("expected a key"));
                    }
                    let key = parser.string()?;
                    parser.skip_whitespace();
                    if parser.peek() != Some(b':') {
                        return Err(parser.error("expected `:`"));
                    }
                    parser.at += 1;
                    members.push((key, parser.value(depth)?));
                    Ok(())
                })?;
                Ok(Json::Object(members))
            }
            Some(_) => Err(self.error("expected a value")),
        }
    }

    /// The items of an array or object, the parser at its opening bracket: `item` reads each,
    /// separated by `,`, up to `close` (none at all is fine; a trailing comma is not).
    fn list(
        &mut self,
        close: u8,
        expected: &'static str,
        item: &mut dyn FnMut(&mut Self) -> Result<(), SyntaxError>,
    ) -> Result<(), SyntaxError> {
        self.at += 1;
        self.skip_whitespace();
        if self.peek() == Some(close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(c) if c == close => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.error(expected)),
            }
        }
    }

    fn deeper(&self, depth: usize) -> Result<usize, SyntaxError> {
        if depth >= MAX_DEPTH { Err(self.error("nested too deep")) } else { Ok(depth + 1) }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Json, SyntaxError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("expected a digit")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            integer = false;
            if self.digits() == 0 {
                return Err(self.error("expected a digit after `.`"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit in the exponent"));
            }
        }
        // The bytes are ASCII digits and signs: always valid UTF-8.
        let text = std::str::from_utf8(&self.bytes[start..self.at]).map_err(|_| self.error("bad number"))?;
        if integer && let Ok(n) = text.parse::<i64>() {
            return Ok(Json::Int(n));
        }
        text.parse::<f64>().map(Json::Float).map_err(|_| self.error("bad number"))
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let digits = self.bytes.get(self.at..self.at + 4).ok_or_else(|| self.error("unexpected end"))?;
        let mut value = 0;
        for &d in digits {
            let nibble = (d as char).to_digit(16).ok_or_else(|| self.error("bad \\u escape"))?;
            value = value * 16 + nibble;
        }
        self.at += 4;
        Ok(value)
    }

    /// A string, the parser at its opening quote.
    fn string(&mut self) -> Result<String, SyntaxError> {
        self.at += 1;
        let mut out = String::new();
        let mut run = self.at; // start of the bytes not yet copied
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    out.push_str(self.text(run)?);
                    self.at += 1;
                    return Ok(out);
                }
                Some(0..=0x1f) => return Err(self.error("control character in string")),
                Some(b'\\') => {
                    out.push_str(self.text(run)?);
                    self.at += 1;
                    let escaped = self.peek().ok_or_else(|| self.error("unexpected end"))?;
                    self.at += 1;
                    match escaped {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let code = match first {
                                0xd800..=0xdbff => {
                                    if !self.bytes[self.at..].starts_with(b"\\u") {
                                        return Err(self.error("lone surrogate"));
                                    }
                                    self.at += 2;
                                    let second = self.hex4()?;
                                    if !(0xdc00..=0xdfff).contains(&second) {
                                        return Err(self.error("lone surrogate"));
                                    }
                                    0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
                                }
                                0xdc00..=0xdfff => return Err(self.error("lone surrogate")),
                                code => code,
                            };
                            out.push(char::from_u32(code).ok_or_else(|| self.error("bad \\u escape"))?);
                        }
                        _ => return Err(self.error("bad escape")),
                    }
                    run = self.at;
                }
                Some(_) => self.at += 1,
            }
        }
    }

    /// The input from `start` to here, as text (it came from a `&str`, and the parser stops only
    /// at ASCII bytes, so the slice is on character boundaries).
    fn text(&self, start: usize) -> Result<&str, SyntaxError> {
        std::str::from_utf8(&self.bytes[start..self.at]).map_err(|_| self.error("bad UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_the_shapes_frames_use() {
        let text = r#"{"request_id":"r1","action":"send_event","payload":{"chat_id":"C1","event":{"type":"message","text":"hé \"x\"\n😀","seq":7,"ratio":-1.5e3,"ok":true,"none":null,"list":[1,[],{}]}}}"#;
        let json = Json::parse(text).unwrap();
        assert_eq!(json.get("action").and_then(Json::as_str), Some("send_event"));
        let event = json.get("payload").and_then(|p| p.get("event")).unwrap();
        assert_eq!(event.get("text").and_then(Json::as_str), Some("hé \"x\"\n😀"));
        assert_eq!(event.get("seq"), Some(&Json::Int(7)));
        assert_eq!(event.get("ratio"), Some(&Json::Float(-1500.0)));
        assert_eq!(json.to_text(), text.replace("-1.5e3", "-1500.0"));
    }

    #[test]
    fn refuses_what_is_not_json_and_says_where() {
        for (text, what) in [
            ("", "unexpected end"),
            ("{\"a\":1,}", "expected a key"),
            ("[1 2]", "expected `,` or `]`"),
            ("\"a\u{1}\"", "control character in string"),
            ("\"\\ud800\"", "lone surrogate"),
            ("01", "trailing characters"),
            ("1.", "expected a digit after `.`"),
            ("{\"a\" 1}", "expected `:`"),
            ("nul", "expected a value"),
            ("\"\\x\"", "bad escape"),
        ] {
            assert_eq!(Json::parse(text).map_err(|e| e.what), Err(what), "{text:?}");
        }
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(Json::parse(&deep).map_err(|e| e.what), Err("nested too deep"));
        let fine = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(Json::parse(&fine).is_ok());
    }
}
