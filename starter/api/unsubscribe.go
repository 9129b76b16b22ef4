package api

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/everywherecommerce/fulfilment/messages"
)

// unsubscribePage is what the customer sees after following the link in a
// marketing message: a button (so that mail scanners that open links withdraw
// nothing), then the confirmation. German or English by the browser's language.
var unsubscribePage = template.Must(template.New("unsubscribe").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:Helvetica,Arial,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
button{font-size:1.1rem;padding:.8rem 1.4rem;min-height:44px;border-radius:6px;border:0;background:#0b5cad;color:#fff}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Text}}</p>
{{if .Button}}<form method="post"><input type="hidden" name="t" value="{{.Token}}"><button type="submit">{{.Button}}</button></form>{{end}}
</body></html>`))

type unsubscribeText struct {
	Lang, Title, Text, Button, Token string
}

var unsubscribeTexts = map[string]map[string]unsubscribeText{
	"en": {
		"ask":  {Title: "No more suggestions?", Text: "We will stop sending you product suggestions and review requests. Messages about your orders still reach you.", Button: "Unsubscribe"},
		"done": {Title: "You are unsubscribed", Text: "You will not receive product suggestions or review requests from us any more. Messages about your orders still reach you."},
		"bad":  {Title: "This link does not work", Text: "The link is incomplete or was not made by us. Please use the link from the email, or contact our support."},
	},
	"de": {
		"ask":  {Title: "Keine Empfehlungen mehr?", Text: "Wir senden Ihnen dann keine Produktempfehlungen und Bewertungsanfragen mehr. Nachrichten zu Ihren Bestellungen erhalten Sie weiterhin.", Button: "Abmelden"},
		"done": {Title: "Sie sind abgemeldet", Text: "Sie erhalten von uns keine Produktempfehlungen und Bewertungsanfragen mehr. Nachrichten zu Ihren Bestellungen erhalten Sie weiterhin."},
		"bad":  {Title: "Dieser Link funktioniert nicht", Text: "Der Link ist unvollständig oder stammt nicht von uns. Bitte nutzen Sie den Link aus der E-Mail oder wenden Sie sich an unseren Support."},
	},
}

// unsubscribe serves the unsubscribe link: GET asks, POST withdraws the marketing
// consent of the customer the signed token names (also the one-click POST of
// RFC 8058 that mail clients send for the List-Unsubscribe header). A bad token
// changes nothing and tells nothing about any customer.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	lang := messages.Lang(r.Header.Get("Accept-Language"))
	token := r.URL.Query().Get("t")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
		if err := r.ParseForm(); err == nil && r.PostForm.Get("t") != "" {
			token = r.PostForm.Get("t")
		}
	}
	page := func(status int, kind string) {
		t := unsubscribeTexts[lang][kind]
		t.Lang, t.Token = lang, token
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(status)
		_ = unsubscribePage.Execute(w, t) // the client went away; nothing left to tell it
	}
	if s.cfg.Links == nil {
		page(http.StatusNotFound, "bad")
		return
	}
	customerID, err := s.cfg.Links.VerifyUnsubscribe(strings.TrimSpace(token))
	if err != nil {
		page(http.StatusBadRequest, "bad")
		return
	}
	if r.Method == http.MethodGet {
		page(http.StatusOK, "ask")
		return
	}
	if err := s.store.WithdrawConsent(r.Context(), customerID, s.cfg.Now().UTC()); err != nil {
		s.logger.Error("withdraw consent", "error", err)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "Please try again in a moment.", http.StatusServiceUnavailable)
		return
	}
	s.logger.Info("marketing consent withdrawn", "via", "unsubscribe link")
	page(http.StatusOK, "done")
}
