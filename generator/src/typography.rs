//! Dates, times and amounts stay on one line: "10. Februar 2027" (a weekday
//! before it may end the line above: at 320 px a whole "Donnerstag, 28. Januar
//! 2027" overflows a heading), "13:00 Uhr", "09:00–13:00", "09:00 bis 13:00",
//! "1.999,00 €", "20 %". [`keep_together`] turns the spaces inside them into
//! no-break spaces (and joins an en dash between digits to what follows);
//! [`keep_together_html`] does the same for the text of a whole page, so
//! templates, editors' Markdown and backend pages need no `&nbsp;` of their own.

use std::borrow::Cow;

/// U+00A0: a space without a line break.
pub const NBSP: char = '\u{a0}';
/// U+2060: forbids the line break a browser allows after an en dash.
pub const WORD_JOINER: char = '\u{2060}';

pub const MONTHS: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];

/// `text` with no-break spaces inside dates, times and amounts.
pub fn keep_together(text: &str) -> Cow<'_, str> {
    // Every rule needs a digit: most text of a page has none.
    if !text.bytes().any(|b| b.is_ascii_digit()) || (!text.contains(' ') && !text.contains('–')) {
        return Cow::Borrowed(text);
    }
    let words: Vec<&str> = text.split(' ').collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            let next_after = words.get(i + 1).copied().unwrap_or("");
            let before_before = if i >= 2 { words[i - 2] } else { "" };
            out.push(if joined(before_before, words[i - 1], word, next_after) {
                NBSP
            } else {
                ' '
            });
        }
        join_dash(word, &mut out);
    }
    Cow::Owned(out)
}

/// Whether the space between `left` and `right` belongs to a date, time or
/// amount (`before` and `after` are the words around them).
fn joined(before: &str, left: &str, right: &str, after: &str) -> bool {
    let ends_with_digit = left.chars().last().is_some_and(|c| c.is_ascii_digit());
    // "10. Februar"
    (is_day(left) && starts_with_word(right, &MONTHS))
        // "Februar 2027"
        || (ends_with_word(left, &MONTHS) && right.len() >= 4 && right.as_bytes()[..4].iter().all(u8::is_ascii_digit))
        // "13:00 Uhr", "20 %", "49 €", "1.000 EUR"
        || (ends_with_digit && starts_with_word(right, &["Uhr", "€", "%", "EUR", "Euro", "Prozent"]))
        // "09:00 bis 13:00" (times only: "von 1 bis 5" may break)
        || (is_time(left) && right == "bis" && is_time(after))
        || (left == "bis" && is_time(before) && is_time(right))
}

/// "13:00", "(9:30", "13:00," — a clock time, maybe with punctuation around it.
fn is_time(word: &str) -> bool {
    let core = word.trim_matches(|c: char| !c.is_ascii_digit());
    match core.split_once(':') {
        Some((h, m)) => {
            (1..=2).contains(&h.len())
                && m.len() == 2
                && h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// "10." or "(10." — a day of the month.
fn is_day(word: &str) -> bool {
    let Some(number) = word.strip_suffix('.') else {
        return false;
    };
    let digits: String = number
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    (1..=2).contains(&digits.len()) && !number[..number.len() - digits.len()].ends_with('.')
}

/// `word` begins with one of `names`, followed by no further letter
/// ("Mai," yes, "Mainz" no).
fn starts_with_word(word: &str, names: &[&str]) -> bool {
    names.iter().any(|n| {
        word.strip_prefix(n)
            .is_some_and(|rest| !rest.starts_with(char::is_alphabetic))
    })
}

/// `word` ends with one of `names`, preceded by no further letter.
fn ends_with_word(word: &str, names: &[&str]) -> bool {
    names.iter().any(|n| {
        word.strip_suffix(n)
            .is_some_and(|rest| !rest.ends_with(char::is_alphabetic))
    })
}

/// Copies `word`, with a word joiner after an en dash between digits
/// ("09:00–13:00", "3–6").
fn join_dash(word: &str, out: &mut String) {
    let mut prev = None;
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '–'
            && prev.is_some_and(|p: char| p.is_ascii_digit())
            && chars.peek().is_some_and(char::is_ascii_digit)
        {
            out.push(WORD_JOINER);
        }
        prev = Some(c);
    }
}

/// Elements whose text is kept as written: what a person typed, code, scripts.
const VERBATIM: [&str; 6] = ["textarea", "script", "style", "pre", "code", "kbd"];

/// A whole HTML page with [`keep_together`] applied to its text (never to
/// tags, attributes, comments or the elements in `VERBATIM`). A page with
/// nothing to keep together comes back as it was, without a copy: this pass
/// sees every byte of every page (it was a quarter of a full build's CPU
/// while it searched tags with `str::find` and copied all text).
pub fn keep_together_html(html: String) -> String {
    let bytes = html.as_bytes();
    // Built only once a text changes; `html[..copied]` is in it.
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut pos = 0;
    let mut verbatim: Option<&str> = None;
    while pos < bytes.len() {
        let lt = memchr::memchr(b'<', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        if verbatim.is_none() {
            if let Cow::Owned(kept) = keep_together(&html[pos..lt]) {
                let out = out.get_or_insert_with(|| String::with_capacity(html.len() + 256));
                out.push_str(&html[copied..pos]);
                out.push_str(&kept);
                copied = lt;
            }
        }
        if lt == bytes.len() {
            break;
        }
        let rest = &bytes[lt..];
        let end = if rest.starts_with(b"<!--") {
            memchr::memmem::find(rest, b"-->").map_or(rest.len(), |e| e + 3)
        } else {
            memchr::memchr(b'>', rest).map_or(rest.len(), |e| e + 1)
        };
        let tag = &rest[..end];
        let closing = tag.starts_with(b"</");
        let named = &tag[if closing { 2 } else { 1 }..];
        let name = &named[..named
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count()];
        match verbatim {
            Some(open) if closing && name.eq_ignore_ascii_case(open.as_bytes()) => verbatim = None,
            None if !closing && !tag.ends_with(b"/>") => {
                verbatim = VERBATIM
                    .iter()
                    .copied()
                    .find(|v| name.eq_ignore_ascii_case(v.as_bytes()));
            }
            _ => {}
        }
        pos = lt + end;
    }
    match out {
        None => html,
        Some(mut out) => {
            out.push_str(&html[copied..]);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(text: &str) -> String {
        keep_together(text)
            .replace(NBSP, "~")
            .replace(WORD_JOINER, "^")
    }

    #[test]
    fn dates_times_and_amounts_stay_together() {
        assert_eq!(
            kept("am Mittwoch, 10. Februar 2027 von 09:00 bis 13:00 Uhr"),
            "am Mittwoch, 10.~Februar~2027 von 09:00~bis~13:00~Uhr"
        );
        assert_eq!(kept("Di., 12. Januar 2027"), "Di., 12.~Januar~2027");
        assert_eq!(kept("(09:00–13:00 Uhr)"), "(09:00–^13:00~Uhr)");
        assert_eq!(
            kept("kostet 1.999 EUR (+20 %) oder 49 € je Lizenz"),
            "kostet 1.999~EUR (+20~%) oder 49~€ je Lizenz"
        );
        assert_eq!(kept("seit Mai 2021."), "seit Mai~2021.");
    }

    #[test]
    fn ordinary_words_keep_their_spaces() {
        for text in [
            "Mainz 2027 und 3. Mainzer Tag",
            "Kapitel 1.2. Mai-Regeln",
            "die Uhrzeit 10 Uhrwerke",
            "bis 2027 und von A bis Z, von 1 bis 5",
            "E-Akte – ein Überblick",
        ] {
            assert_eq!(kept(text), text, "{text}");
        }
    }

    #[test]
    fn html_text_only() {
        let html = "<p title=\"10. Mai 2027\">am 10. Mai 2027</p><textarea name=\"n\">am 10. Mai 2027</textarea><!-- 10. Mai 2027 --><p>20 %</p>";
        assert_eq!(
            keep_together_html(html.to_string()).replace(NBSP, "~"),
            "<p title=\"10. Mai 2027\">am 10.~Mai~2027</p><textarea name=\"n\">am 10. Mai 2027</textarea><!-- 10. Mai 2027 --><p>20~%</p>"
        );
        // Tag names in any case; text after the verbatim element is kept together again.
        let upper = "<PRE>um 13:00 Uhr</PRE>um 13:00 Uhr<Code>20 %</CODE>";
        assert_eq!(
            keep_together_html(upper.to_string()).replace(NBSP, "~"),
            "<PRE>um 13:00 Uhr</PRE>um 13:00~Uhr<Code>20 %</CODE>"
        );
        // A comment ends at "-->", not at the first ">"; text after it counts again.
        let comment = "<!-- a > 10. Mai 2027 --><p a=\"1\">10. Mai 2027</p>";
        assert_eq!(
            keep_together_html(comment.to_string()).replace(NBSP, "~"),
            "<!-- a > 10. Mai 2027 --><p a=\"1\">10.~Mai~2027</p>"
        );
        // Nothing to keep together: the page as it was, up to its unclosed end.
        let plain = "<p>Raum 12 und 3</p>\n<p>ohne Ziffern</p><a href=\"/x\"";
        assert_eq!(keep_together_html(plain.to_string()), plain);
    }
}
