// Package messages renders what the customer reads at each touchpoint of an order:
// the email's subject and text, the SMS and the app push. The templates are
// embedded in the binary, one file per touchpoint and locale; a locale without
// its own templates falls back to English.
package messages

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"text/template"
)

//go:embed templates
var files embed.FS

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
	SMS       string
	PushTitle string
	PushBody  string
}

// Catalog holds the parsed templates by locale and touchpoint.
type Catalog struct {
	templates map[string]map[string]*template.Template // locale → touchpoint → set
}

// Load parses the embedded templates. Every file must define every part.
func Load() (*Catalog, error) {
	c := &Catalog{templates: map[string]map[string]*template.Template{}}
	err := fs.WalkDir(files, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		locale, name := path.Base(path.Dir(p)), strings.TrimSuffix(path.Base(p), ".tmpl")
		src, err := files.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		t, err := template.New(name).Option("missingkey=error").Parse(string(src))
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

// Locales lists the locales that have templates of their own.
func (c *Catalog) Locales() []string {
	out := make([]string, 0, len(c.templates))
	for l := range c.templates {
		out = append(out, l)
	}
	return out
}

// Touchpoints lists the touchpoints of the fallback locale.
func (c *Catalog) Touchpoints() []string {
	out := make([]string, 0, len(c.templates[Fallback]))
	for tp := range c.templates[Fallback] {
		out = append(out, tp)
	}
	return out
}

// Render renders a touchpoint's message in the locale ("de", "de-DE" and "de_AT"
// all mean German), or in English when the locale has no templates. A fact the
// template needs but data lacks is an error: a message with a hole is never sent.
func (c *Catalog) Render(locale, touchpoint string, data map[string]string) (Message, error) {
	lang := strings.ToLower(locale)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
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
	return Message{Locale: lang, Subject: out["subject"], Text: out["text"] + "\n", SMS: out["sms"],
		PushTitle: out["push_title"], PushBody: out["push_body"]}, nil
}
