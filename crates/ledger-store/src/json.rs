//! JSON as the ledger stores it: I-JSON (RFC 7493) values, held in the one
//! form that reads back from PostgreSQL's `jsonb` unchanged, and their
//! RFC 8785 (JCS) encoding, which the event hash v2 covers.
//!
//! A number is an IEEE 754 double. `jsonb` keeps a number's decimal digits
//! but not its form: it prints `1e16` as `10000000000000000` and `-0.0` as
//! `0.0`. So the stored form of a number is the one that survives that
//! (`stored_number`), and a request's JSON is parsed straight into it
//! (`parse`), refusing, with the JSON Pointer (RFC 6901) of the value, what
//! could not be kept: a number a double cannot hold, a duplicate member
//! name, a lone surrogate, U+0000 (PostgreSQL's text holds no NUL), nesting
//! deeper than `MAX_DEPTH`. `prepare_stored` checks and normalizes a value
//! built in code the same way.

use serde_json::{Map, Number, Value};

/// How deep a request's JSON may nest (arrays and objects). Stored
/// documents wrap a request's values a few levels deeper, and serde_json
/// reads at most 128 levels back: the margin keeps every accepted value
/// readable.
pub const MAX_DEPTH: usize = 64;

/// How deep a stored document may nest.
pub const MAX_STORED_DEPTH: usize = 100;

/// The largest integer every double-based reader holds exactly (2^53 - 1).
pub const MAX_SAFE_INTEGER: i128 = (1 << 53) - 1;

/// A JSON value the ledger will not store, and where in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason} at {}", if pointer.is_empty() { "the document root" } else { pointer.as_str() })]
pub struct JsonError {
    /// RFC 6901 JSON Pointer to the value (`""` for the whole document).
    pub pointer: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Why a request body is not a JSON document the ledger takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not JSON (RFC 8259) at all.
    #[error("{message} at line {line} column {column}")]
    Syntax {
        /// What is wrong.
        message: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column, in bytes.
        column: usize,
    },
    /// JSON, but not I-JSON the ledger can store and read back unchanged.
    #[error(transparent)]
    Refused(#[from] JsonError),
}

/// The form of a double that reads back from `jsonb` as the same
/// `serde_json` value: negative zero as zero (PostgreSQL's numeric has no
/// negative zero), and an integral double that serde_json would print with
/// an exponent (magnitude 10^16 and up) as the integer PostgreSQL prints,
/// when it fits one.
pub fn stored_number(value: f64) -> Number {
    if value == 0.0 {
        return Number::from_f64(0.0).expect("zero is finite");
    }
    if value.fract() == 0.0 && value.abs() >= 1e16 {
        if (0.0..TWO_POW_64).contains(&value) {
            return Number::from(value as u64);
        }
        if (-TWO_POW_63..0.0).contains(&value) {
            return Number::from(value as i64);
        }
    }
    Number::from_f64(value).expect("stored numbers are finite")
}

const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// The double an integer stands for, if a double holds it exactly.
fn exact_double(integer: i128) -> Option<f64> {
    let double = integer as f64;
    (double as i128 == integer).then_some(double)
}

/// The stored form of an integer: itself within ±(2^53 - 1), or beyond it
/// when a double holds it exactly (`10000000000000000`); others are refused,
/// never rounded.
fn stored_integer(integer: i128) -> Result<Number, String> {
    // Every integer within ±(2^53 - 1) is an exact double.
    let Some(double) = exact_double(integer) else {
        return Err(not_a_double(integer));
    };
    Ok(match (u64::try_from(integer), i64::try_from(integer)) {
        (Ok(positive), _) => Number::from(positive),
        (_, Ok(negative)) => Number::from(negative),
        _ => stored_number(double),
    })
}

fn not_a_double(integer: impl std::fmt::Display) -> String {
    format!("integer {integer} is beyond ±(2^53-1) and not exactly an IEEE 754 double")
}

/// Parses a request body into its stored form.
///
/// # Errors
/// `Syntax` for bytes that are not JSON; `Refused` for JSON the ledger
/// does not store, naming where.
pub fn parse(bytes: &[u8]) -> Result<Value, ParseError> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        Parser::new(std::str::from_utf8(&bytes[..error.valid_up_to()]).expect("valid prefix"))
            .at_end()
            .syntax("invalid UTF-8")
    })?;
    let mut parser = Parser::new(text);
    parser.skip_whitespace();
    let value = parser.value()?;
    parser.skip_whitespace();
    if parser.at < text.len() {
        return Err(parser.syntax("trailing characters"));
    }
    Ok(value)
}

enum Segment {
    Key(String),
    Index(usize),
}

/// Reads valid UTF-8 (checked once, by `parse`): every byte it stops at is
/// ASCII, so the runs it slices between them are `str`s as they are.
struct Parser<'a> {
    text: &'a str,
    at: usize,
    path: Vec<Segment>,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser {
            text,
            at: 0,
            path: Vec::new(),
        }
    }

    fn at_end(mut self) -> Self {
        self.at = self.text.len();
        self
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn syntax(&self, message: &'static str) -> ParseError {
        let before = &self.bytes()[..self.at.min(self.text.len())];
        let line = before.iter().filter(|&&byte| byte == b'\n').count() + 1;
        let column = before.len()
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        ParseError::Syntax {
            message,
            line,
            column,
        }
    }

    fn refused(&self, reason: impl Into<String>) -> ParseError {
        ParseError::Refused(JsonError {
            pointer: pointer(&self.path),
            reason: reason.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8, message: &'static str) -> Result<(), ParseError> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.syntax(message))
        }
    }

    fn literal(&mut self, word: &'static [u8], value: Value) -> Result<Value, ParseError> {
        if self.bytes()[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(value)
        } else {
            Err(self.syntax("expected a value"))
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(_) => Err(self.syntax("expected a value")),
            None => Err(self.syntax("unexpected end of input")),
        }
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        let depth = self.path.len() + 1;
        if depth > MAX_DEPTH {
            return Err(self.refused(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.at += 1;
        self.skip_whitespace();
        Ok(())
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        let mut map = Map::new();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Value::Object(map));
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.syntax("expected a member name"));
            }
            let key = self.string()?;
            self.skip_whitespace();
            self.expect(b':', "expected ':'")?;
            self.skip_whitespace();
            self.path.push(Segment::Key(key));
            if map.contains_key(self.current_key()) {
                return Err(self.refused("duplicate member name"));
            }
            let item = self.value()?;
            let Some(Segment::Key(key)) = self.path.pop() else {
                unreachable!("the member's segment is on top")
            };
            map.insert(key, item);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.skip_whitespace();
                }
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Value::Object(map));
                }
                _ => return Err(self.syntax("expected ',' or '}'")),
            }
        }
    }

    fn current_key(&self) -> &str {
        match self.path.last() {
            Some(Segment::Key(key)) => key,
            _ => "",
        }
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.enter()?;
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.path.push(Segment::Index(items.len()));
            let item = self.value()?;
            self.path.pop();
            items.push(item);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.skip_whitespace();
                }
                Some(b']') => {
                    self.at += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.syntax("expected ',' or ']'")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u16, ParseError> {
        let digits = self
            .text
            .get(self.at..self.at + 4)
            .filter(|digits| digits.bytes().all(|byte| byte.is_ascii_hexdigit()))
            .ok_or_else(|| self.syntax("invalid \\u escape"))?;
        let unit = u16::from_str_radix(digits, 16).expect("four hex digits");
        self.at += 4;
        Ok(unit)
    }

    /// A string, the opening quote at `self.at`; runs between escapes are
    /// copied whole.
    fn string(&mut self) -> Result<String, ParseError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let run_start = self.at;
            while let Some(byte) = self.peek() {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.at += 1;
            }
            out.push_str(&self.text[run_start..self.at]);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escaped = self
                        .peek()
                        .ok_or_else(|| self.syntax("unterminated string"))?;
                    self.at += 1;
                    let decoded = match escaped {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => {
                            self.at -= 1;
                            return Err(self.syntax("invalid escape"));
                        }
                    };
                    if decoded == '\0' {
                        return Err(self.refused(
                            "U+0000 cannot be stored (PostgreSQL text holds no NUL character)",
                        ));
                    }
                    out.push(decoded);
                }
                Some(_) => return Err(self.syntax("control character in a string")),
                None => return Err(self.syntax("unterminated string")),
            }
        }
    }

    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let unit = self.hex4()?;
        let lone = "a lone UTF-16 surrogate is not a Unicode character";
        match unit {
            0xD800..=0xDBFF => {
                if !self.bytes()[self.at..].starts_with(b"\\u") {
                    return Err(self.refused(lone));
                }
                self.at += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.refused(lone));
                }
                let code = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                Ok(char::from_u32(code).expect("a surrogate pair is a character"))
            }
            0xDC00..=0xDFFF => Err(self.refused(lone)),
            _ => Ok(char::from_u32(u32::from(unit)).expect("not a surrogate")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.syntax("invalid number")),
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            integer = false;
            if self.digits() == 0 {
                return Err(self.syntax("invalid number"));
            }
        }
        let mantissa_end = self.at;
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits() == 0 {
                return Err(self.syntax("invalid number"));
            }
        }
        let literal = &self.text[start..self.at];
        let number = if integer {
            // More digits than an i128 holds is far beyond any exact double
            // that is printed as an integer (RFC 8785 prints those below 10^21).
            let parsed = literal
                .parse::<i128>()
                .map_err(|_| not_a_double(literal))
                .and_then(stored_integer);
            parsed.map_err(|reason| self.refused(reason))?
        } else {
            let double: f64 = literal
                .parse()
                .expect("a JSON number is a Rust float literal");
            if double.is_infinite() {
                return Err(self.refused(format!(
                    "{literal} is beyond the range of an IEEE 754 double"
                )));
            }
            let nonzero = self.bytes()[start..mantissa_end]
                .iter()
                .any(|byte| (b'1'..=b'9').contains(byte));
            if double == 0.0 && nonzero {
                return Err(self.refused(format!(
                    "{literal} is too small for an IEEE 754 double (it would read back as 0)"
                )));
            }
            stored_number(double)
        };
        Ok(Value::Number(number))
    }
}

fn write_segment(out: &mut String, segment: &Segment) {
    out.push('/');
    match segment {
        Segment::Key(key) => out.push_str(&key.replace('~', "~0").replace('/', "~1")),
        Segment::Index(index) => out.push_str(&index.to_string()),
    }
}

fn pointer(path: &[Segment]) -> String {
    let mut out = String::new();
    for segment in path {
        write_segment(&mut out, segment);
    }
    out
}

impl JsonError {
    /// An error of the value being looked at; `under` names where it is as
    /// the walk returns, so a walk that succeeds builds no path.
    fn here(reason: String) -> Self {
        JsonError {
            pointer: String::new(),
            reason,
        }
    }

    /// The error, seen from the value that holds the one it is in.
    fn under(self, segment: Segment) -> Self {
        let mut pointer = String::new();
        write_segment(&mut pointer, &segment);
        pointer.push_str(&self.pointer);
        JsonError { pointer, ..self }
    }
}

/// The integer a serde_json number holds, unless it holds a float.
fn integer_of(number: &Number) -> Option<i128> {
    number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from))
}

/// Checks that a value built in code can be stored and read back
/// unchanged, and puts its numbers in their stored form.
///
/// # Errors
/// The first value that cannot be stored: an integer a double does not
/// hold exactly, U+0000 in a string or name, nesting deeper than
/// `MAX_STORED_DEPTH`.
pub fn prepare_stored(value: &mut Value) -> Result<(), JsonError> {
    prepare_at(value, 0)
}

fn prepare_at(value: &mut Value, depth: usize) -> Result<(), JsonError> {
    let too_deep = || JsonError::here(format!("nesting deeper than {MAX_STORED_DEPTH} levels"));
    match value {
        Value::Number(number) => {
            *number = match integer_of(number) {
                Some(integer) => stored_integer(integer).map_err(JsonError::here)?,
                None => stored_number(number.as_f64().expect("an f64 number")),
            };
        }
        Value::String(text) if text.contains('\0') => {
            return Err(JsonError::here("U+0000 cannot be stored".into()));
        }
        Value::Array(items) => {
            if depth >= MAX_STORED_DEPTH {
                return Err(too_deep());
            }
            for (index, item) in items.iter_mut().enumerate() {
                prepare_at(item, depth + 1).map_err(|error| error.under(Segment::Index(index)))?;
            }
        }
        Value::Object(map) => {
            if depth >= MAX_STORED_DEPTH {
                return Err(too_deep());
            }
            for (key, item) in map.iter_mut() {
                let at_key = |error: JsonError| error.under(Segment::Key(key.clone()));
                if key.contains('\0') {
                    return Err(at_key(JsonError::here(
                        "U+0000 cannot be stored in a member name".into(),
                    )));
                }
                prepare_at(item, depth + 1).map_err(at_key)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Writes `value` as RFC 8785 (JSON Canonicalization Scheme) prescribes:
/// no whitespace, members sorted by the UTF-16 code units of their names,
/// strings escaped as ECMAScript's `JSON.stringify` escapes them, numbers
/// as ECMAScript prints the double.
///
/// # Errors
/// An integer that no double holds exactly: JCS has no encoding for it,
/// and hashing it as the nearest double would let it change unnoticed.
pub fn write_jcs(value: &Value, out: &mut Vec<u8>) -> Result<(), JsonError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => {
            let double = match integer_of(number) {
                Some(integer) => exact_double(integer).ok_or_else(|| {
                    JsonError::here(format!(
                        "integer {number} is not exactly an IEEE 754 double"
                    ))
                })?,
                None => number.as_f64().expect("an f64 number"),
            };
            out.extend_from_slice(ryu_js::Buffer::new().format_finite(double).as_bytes());
        }
        Value::String(text) => jcs_string(text, out),
        Value::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_jcs(item, out).map_err(|error| error.under(Segment::Index(index)))?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(&String, &Value)> = map.iter().collect();
            members.sort_unstable_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (index, (key, item)) in members.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                jcs_string(key, out);
                out.push(b':');
                write_jcs(item, out).map_err(|error| error.under(Segment::Key(key.clone())))?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn jcs_string(text: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &byte in text.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0A => out.extend_from_slice(b"\\n"),
            0x0C => out.extend_from_slice(b"\\f"),
            0x0D => out.extend_from_slice(b"\\r"),
            0x00..=0x1F => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xF)]);
            }
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

/// `value` as RFC 8785 text.
///
/// # Errors
/// See `write_jcs`.
pub fn jcs(value: &Value) -> Result<String, JsonError> {
    let mut out = Vec::new();
    write_jcs(value, &mut out)?;
    Ok(String::from_utf8(out).expect("JCS writes UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// RFC 8785 Appendix B: the double with these IEEE 754 bits, and its text.
    #[test]
    fn jcs_numbers_match_rfc_8785_appendix_b() {
        let samples: [(u64, &str); 24] = [
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for (bits, expected) in samples {
            let double = f64::from_bits(bits);
            let value = Value::Number(Number::from_f64(double).unwrap());
            assert_eq!(jcs(&value).unwrap(), expected, "{bits:016x}");
            // The stored form of the number encodes the same.
            let stored = Value::Number(stored_number(double));
            assert_eq!(jcs(&stored).unwrap(), expected, "stored {bits:016x}");
        }
    }

    /// RFC 8785 section 3.2.2's example, parsed as a request would be.
    #[test]
    fn jcs_of_the_rfc_8785_example() {
        let input = br#"{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"#;
        let value = parse(input).unwrap();
        assert_eq!(
            jcs(&value).unwrap(),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    /// RFC 8785 section 3.2.3: members sort by UTF-16 code units, which
    /// puts U+1F600 (a surrogate pair) before U+FB33.
    #[test]
    fn jcs_sorts_members_by_utf16_code_units() {
        let value = json!({
            "\u{20ac}": "Euro Sign",
            "\r": "Carriage Return",
            "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
            "1": "One",
            "\u{1f600}": "Emoji: Grinning Face",
            "\u{80}": "Control",
            "\u{f6}": "Latin Small Letter O With Diaeresis"
        });
        let text = jcs(&value).unwrap();
        let order: Vec<&str> = [
            "Carriage Return",
            "One",
            "Control",
            "Latin Small Letter O With Diaeresis",
            "Euro Sign",
            "Emoji: Grinning Face",
            "Hebrew Letter Dalet With Dagesh",
        ]
        .into_iter()
        .collect();
        let positions: Vec<usize> = order.iter().map(|name| text.find(name).unwrap()).collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    }

    #[test]
    fn jcs_refuses_an_integer_no_double_holds() {
        let error = jcs(&json!({"a": [u64::MAX]})).unwrap_err();
        assert_eq!(error.pointer, "/a/0");
        // ECMAScript prints the shortest digits that identify the double.
        assert_eq!(jcs(&json!(1u64 << 60)).unwrap(), "1152921504606847000");
    }

    fn refused(text: &str) -> JsonError {
        match parse(text.as_bytes()) {
            Err(ParseError::Refused(error)) => error,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn parse_refuses_what_cannot_be_stored_and_names_where() {
        assert_eq!(refused(r#"{"a":{"b":9007199254740993}}"#).pointer, "/a/b");
        assert_eq!(
            refused(r#"[123456789012345678901234567890123456789012]"#).pointer,
            "/0"
        );
        assert_eq!(refused(r#"{"x":[1e400]}"#).pointer, "/x/0");
        assert_eq!(refused(r#"{"x":-1e-400}"#).pointer, "/x");
        assert_eq!(refused(r#"{"a":1,"a":2}"#).pointer, "/a");
        assert_eq!(refused(r#"{"a":1,"\u0061":2}"#).pointer, "/a");
        assert_eq!(refused(r#"{"k/~":"\ud800"}"#).pointer, "/k~1~0");
        assert_eq!(refused(r#"{"k":"\udc00\ud800"}"#).pointer, "/k");
        assert_eq!(refused(r#"["\u0000"]"#).pointer, "/0");
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(refused(&deep).reason.contains("nesting"));
        let limit = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(limit.as_bytes()).is_ok());
    }

    #[test]
    fn parse_tells_syntax_errors_apart() {
        for text in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "01",
            "1.",
            "-",
            "1e",
            "\"\t\"",
            "[1] x",
            "tru",
            "\"\\x\"",
            "\"\\u12\"",
            "\u{1}",
        ] {
            assert!(
                matches!(parse(text.as_bytes()), Err(ParseError::Syntax { .. })),
                "{text:?}"
            );
        }
        assert!(matches!(
            parse(b"[\"\xff\"]"),
            Err(ParseError::Syntax {
                message: "invalid UTF-8",
                line: 1,
                column: 3
            })
        ));
    }

    #[test]
    fn parse_keeps_numbers_in_their_stored_form() {
        let value = parse(br#"[1e16, -0.0, -0, 1.0, 10000000000000000, 9007199254740992, 1e300, 1.5e-7, -1e17, 5e-324]"#).unwrap();
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            "[10000000000000000,0.0,0,1.0,10000000000000000,9007199254740992,1e+300,1.5e-7,-100000000000000000,5e-324]"
        );
    }

    #[test]
    fn parse_agrees_with_serde_json_on_ordinary_documents() {
        let text = r#" {"s": "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00 é", "n": [0, -1, 2.5, 1e-7, 123456789],
             "o": {"": null, "t": true, "f": false}, "e": [], "m": {}} "#;
        let ours = parse(text.as_bytes()).unwrap();
        let theirs: Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn prepare_stored_normalizes_numbers_and_refuses_the_unstorable() {
        let mut value = json!({"a": [1e16, -0.0, 3], "b": "x"});
        prepare_stored(&mut value).unwrap();
        assert_eq!(
            value,
            json!({"a": [10000000000000000u64, 0.0, 3], "b": "x"})
        );
        let mut big = json!({"a": {"b": 9_007_199_254_740_993u64}});
        assert_eq!(prepare_stored(&mut big).unwrap_err().pointer, "/a/b");
        let mut nul = json!({"a\u{0}": 1});
        assert!(prepare_stored(&mut nul).is_err());
    }
}
