//! A note's texts as HTML: Markdown (CommonMark, with tables and strikethrough) rendered by
//! pulldown-cmark, then cleaned by ammonia. Whatever a publisher wrote, no script, event
//! attribute, style or raw HTML reaches the page: raw HTML shows as the text it is, links keep
//! only http, https, mailto and tel addresses and open nothing of this node's to the other
//! site, pictures become links (pages load nothing from elsewhere), and a section's headings
//! sit under the section's own.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut cleaner = ammonia::Builder::default();
    cleaner
        .url_schemes(HashSet::from(["http", "https", "mailto", "tel"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .rm_tags(["img"]);
    cleaner
});

/// One level under the section's `<h2>`: `#` becomes `<h3>`, and so on down to `<h6>`.
fn under_section(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// A text of a note, in Markdown, as clean HTML.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Raw HTML is shown as what was typed, not obeyed.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url, title, id })
        }
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        Event::Start(Tag::Heading { level, id, classes, attrs }) => {
            Event::Start(Tag::Heading { level: under_section(level), id, classes, attrs })
        }
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(under_section(level))),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 5 / 4);
    pulldown_cmark::html::push_html(&mut html, events);
    CLEANER.clean(&html).to_string()
}

/// A short text (a list item) as clean inline HTML: its one paragraph without the `<p>`.
pub fn inline_html(markdown: &str) -> String {
    let html = to_html(markdown);
    let trimmed = html.trim_end();
    match trimmed.strip_prefix("<p>").and_then(|rest| rest.strip_suffix("</p>")) {
        Some(inner) if !inner.contains("<p>") => inner.to_owned(),
        _ => html,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What must never reach a page, whatever a note holds: text is escaped, so every `<` left
    /// opens a real tag, and no tag may be a script, frame, picture, style or object, carry an
    /// event attribute or link to a `javascript:` address.
    fn assert_clean(html: &str) {
        for tag in html.split('<').skip(1).map(|rest| rest.split('>').next().unwrap_or_default()) {
            let tag = tag.to_ascii_lowercase();
            let name = tag.trim_start_matches('/').split([' ', '/']).next().unwrap_or_default();
            assert!(!["script", "iframe", "img", "style", "object"].contains(&name), "<{tag}> survived in {html}");
            assert!(!tag.contains("javascript:"), "<{tag}> survived in {html}");
            let event = tag.split_whitespace().skip(1).any(|attribute| attribute.starts_with("on"));
            assert!(!event, "an event attribute survived in <{tag}> of {html}");
        }
    }

    #[test]
    fn paragraphs_reflow_and_markdown_renders() {
        let html =
            to_html("We sorted waste\nat the source.\n\nThen:\n\n- *compost*\n- [a report](https://example.org/r)");
        assert!(html.contains("<p>We sorted waste\nat the source.</p>"), "{html}");
        assert!(html.contains("<em>compost</em>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.org/r" rel="noopener noreferrer nofollow">a report</a>"#),
            "{html}"
        );
        assert!(to_html("# Steps").contains("<h3>Steps</h3>"));
    }

    #[test]
    fn scripts_links_raw_html_and_event_attributes_do_not_survive() {
        let hostile = [
            "<script>alert(1)</script>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<img src=x onerror=alert(1)>",
            "![pic](https://tracker.example/p.png)",
            "<div onclick=\"alert(1)\">hi</div>",
            "<iframe src=\"https://example.org\"></iframe>",
            "<style>body{display:none}</style>",
            "text <b onmouseover=alert(1)>bold</b>",
            "<object data=x></object>",
        ];
        for markdown in hostile {
            let html = to_html(markdown);
            assert_clean(&html);
            assert_clean(&inline_html(markdown));
        }
        // Raw HTML is shown as text, so readers see what was written.
        assert!(to_html("<script>alert(1)</script>").contains("&lt;script&gt;"));
        // A picture becomes a link to it.
        assert!(to_html("![pic](https://example.org/p.png)").contains(r#"<a href="https://example.org/p.png""#));
    }

    #[test]
    fn a_list_item_is_inline() {
        assert_eq!(inline_html("keep *this*"), "keep <em>this</em>");
    }
}
