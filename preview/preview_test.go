package preview_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/everywherecommerce/fulfilment/domain"
	"github.com/everywherecommerce/fulfilment/preview"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current templates")

// Every touchpoint × locale × channel is compared with its golden file, so a
// change to a template or to the formatting shows up in review as a diff of what
// customers read. `go test ./preview -update` rewrites them.
func TestGoldenMessages(t *testing.T) {
	for _, locale := range []string{"en", "de"} {
		t.Run(locale, func(t *testing.T) {
			msgs, err := preview.Render(t.Context(), locale)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("testdata", "golden", locale)
			seen := map[string]bool{}
			check := func(name, got string) {
				seen[name] = true
				path := filepath.Join(dir, name)
				if *update {
					if err := os.MkdirAll(dir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("%s: %v (run go test ./preview -update)", name, err)
					return
				}
				if string(want) != got {
					t.Errorf("%s differs from its golden file:\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
				}
			}
			for _, m := range msgs {
				check(m.File("txt"), m.Plain())
				if m.HTML != "" {
					check(m.File("html"), m.HTML)
				}
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			for _, f := range files {
				if !seen[filepath.Base(f)] {
					t.Errorf("golden file %s belongs to no message any more", f)
				}
			}
			// 16 samples (13 touchpoints, three of them in two variants) by email
			// (text and HTML); all but the review request, a marketing message, by
			// SMS and push.
			if want := 16*2 + 15*2; len(files) != want && !*update {
				t.Errorf("%d golden files, want %d", len(files), want)
			}
		})
	}
}

// The German texts are German and the English ones English: a cheap guard against
// a template copied into the wrong folder.
func TestGermanMessagesAreGerman(t *testing.T) {
	msgs, err := preview.Render(t.Context(), "de-DE")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Channel == domain.ChannelEmail && !strings.HasPrefix(m.Text, "Hallo Mia Schmidt,") {
			t.Errorf("%s email does not greet in German: %q", m.Touchpoint, m.Text[:min(40, len(m.Text))])
		}
	}
}

// An unknown locale falls back to English.
func TestUnknownLocaleIsEnglish(t *testing.T) {
	msgs, err := preview.Render(t.Context(), "pt-BR")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) == 0 || !strings.HasPrefix(msgs[0].Text, "Hello") && msgs[0].Channel == domain.ChannelEmail {
		t.Errorf("first message = %+v", msgs[0])
	}
}

// gsm7 is the GSM 03.38 basic character set; ext are the characters of its
// extension table, which take two septets.
const (
	gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	ext  = "^{}\\[~]|€\f"
)

// segments is how many SMS segments a text takes: GSM-7 (160 per message, 153 per
// segment of a longer one) unless a character needs UCS-2 (70, 67).
func segments(s string) (n int, encoding string, units int) {
	for _, r := range s {
		switch {
		case strings.ContainsRune(gsm7, r):
			units++
		case strings.ContainsRune(ext, r):
			units += 2
		default:
			u := utf8.RuneCountInString(s) // UCS-2: every character one unit (none here above U+FFFF)
			if u <= 70 {
				return 1, "UCS-2", u
			}
			return (u + 66) / 67, "UCS-2", u
		}
	}
	if units <= 160 {
		return 1, "GSM-7", units
	}
	return (units + 152) / 153, "GSM-7", units
}

// Every SMS template, rendered for the sample order, fits two segments; the
// test reports each one's length so that a longer text is a conscious choice.
func TestSMSFitTwoSegments(t *testing.T) {
	for _, locale := range []string{"en", "de"} {
		msgs, err := preview.Render(t.Context(), locale)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Channel != domain.ChannelSMS {
				continue
			}
			n, enc, units := segments(m.Text)
			t.Logf("%s %-34s %3d %s units, %d segment(s)", locale, m.File("txt"), units, enc, n)
			if n > 2 {
				t.Errorf("%s %s SMS takes %d segments: %q", locale, m.Touchpoint, n, m.Text)
			}
		}
	}
}
