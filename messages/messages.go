// Package messages renders what the customer reads at each touchpoint of an order:
// the email's subject and text, the SMS and the app push. The templates are
// embedded in the binary, one file per touchpoint and locale; a locale without
// its own templates falls back to English.
package messages

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"
)

//go:embed templates
var files embed.FS

// layoutFile is the HTML frame of every email; the touchpoint's text fills it.
const layoutFile = "templates/layout.html"

// Fallback is the locale used when the customer's has no templates.
const Fallback = "en"

// Parts are the templates every touchpoint file defines.
var parts = []string{"subject", "text", "sms", "push_title", "push_body"}

// Message is one touchpoint rendered for every channel.
type Message struct {
	// Locale is the locale the templates came from (the fallback, when the
	// customer's has none).
	Locale    string
	Subject   string
	Text      string
	HTML      string
	SMS       string
	PushTitle string
	PushBody  string
}

// funcs are the functions templates may call besides the built-in ones.
var funcs = template.FuncMap{"sentence": sentence}

// sentence starts a clause with a capital letter, for a reason ("die Karte wurde
// abgelehnt") that stands as a sentence of its own after a colon, as German
// spelling wants it.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// Catalog holds the parsed templates by locale and touchpoint.
type Catalog struct {
	templates map[string]map[string]*template.Template // locale → touchpoint → set
	layout    *htmltemplate.Template
}

// Load parses the embedded templates. Every file must define every part.
func Load() (*Catalog, error) {
	c := &Catalog{templates: map[string]map[string]*template.Template{}}
	layout, err := htmltemplate.ParseFS(files, layoutFile)
	if err != nil {
		return nil, fmt.Errorf("load message templates: %w", err)
	}
	c.layout = layout
	err = fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == layoutFile {
			return err
		}
		locale, name := path.Base(path.Dir(p)), strings.TrimSuffix(path.Base(p), ".tmpl")
		src, err := files.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		t, err := template.New(name).Option("missingkey=error").Funcs(funcs).Parse(string(src))
		if err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
		for _, part := range parts {
			if t.Lookup(part) == nil {
				return fmt.Errorf("%s defines no %q", p, part)
			}
		}
		if c.templates[locale] == nil {
			c.templates[locale] = map[string]*template.Template{}
		}
		c.templates[locale][name] = t
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load message templates: %w", err)
	}
	if len(c.templates[Fallback]) == 0 {
		return nil, fmt.Errorf("load message templates: no %q templates", Fallback)
	}
	return c, nil
}

// Render renders a touchpoint's message in the locale ("de", "de-DE" and "de_AT"
// all mean German), or in English when the locale has no templates. A fact the
// template needs but data lacks is an error: a message with a hole is never sent.
func (c *Catalog) Render(locale, touchpoint string, data map[string]any) (Message, error) {
	lang := Lang(locale)
	if _, ok := c.templates[lang][touchpoint]; !ok {
		lang = Fallback
	}
	t, ok := c.templates[lang][touchpoint]
	if !ok {
		return Message{}, fmt.Errorf("no template for touchpoint %q", touchpoint)
	}
	out := make(map[string]string, len(parts))
	for _, part := range parts {
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, part, data); err != nil {
			return Message{}, fmt.Errorf("render %s/%s %s: %w", lang, touchpoint, part, err)
		}
		out[part] = strings.TrimSpace(b.String())
	}
	m := Message{Locale: lang, Subject: out["subject"], Text: out["text"] + "\n", SMS: out["sms"],
		PushTitle: out["push_title"], PushBody: out["push_body"]}
	html, err := c.html(lang, m)
	if err != nil {
		return Message{}, fmt.Errorf("render %s/%s html: %w", lang, touchpoint, err)
	}
	m.HTML = html
	return m, nil
}

// urlPattern finds the links in a text paragraph.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// htmlLine is one line of the HTML email: text, and at most one link in it.
type htmlLine struct {
	Before, URL, After string
}

// html renders the email's HTML: the layout holds the subject as heading and the
// text's paragraphs, each link clickable; html/template escapes everything else.
func (c *Catalog) html(lang string, m Message) (string, error) {
	var paragraphs [][]htmlLine
	for _, para := range strings.Split(strings.TrimSpace(m.Text), "\n\n") {
		var lines []htmlLine
		for _, line := range strings.Split(para, "\n") {
			l := htmlLine{Before: line}
			if loc := urlPattern.FindStringIndex(line); loc != nil {
				l = htmlLine{Before: line[:loc[0]], URL: line[loc[0]:loc[1]], After: line[loc[1]:]}
			}
			lines = append(lines, l)
		}
		paragraphs = append(paragraphs, lines)
	}
	var b bytes.Buffer
	err := c.layout.ExecuteTemplate(&b, "layout.html", map[string]any{"Lang": lang, "Subject": m.Subject, "Paragraphs": paragraphs})
	return b.String(), err
}

// pickupCodeLine finds the pickup code in a rendered ready-for-pickup message, in
// any locale ("Your pickup code: 123456", "Ihr Abholcode: 123456").
var pickupCodeLine = regexp.MustCompile(`(?i)code:?\s+(\d{6})\b`)

// FindPickupCode returns the pickup code in a rendered message, "" when there is
// none. The sandbox demo and tests read codes from the outbox with it, as a
// customer would.
func FindPickupCode(text string) string {
	m := pickupCodeLine.FindStringSubmatch(text)
	if m == nil {
		return ""
	}
	return m[1]
}
