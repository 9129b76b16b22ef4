package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/everywherecommerce/fulfilment/activities"
	"github.com/everywherecommerce/fulfilment/domain"
)

// TestStoreConsoleStaffPickAndHandOver is a store employee's shift in the store
// console, in headless Chromium on a 1024×768 touch screen, against the whole
// system: sign in, confirm a pick, find the order among those ready for pickup by
// the customer's name, refuse a wrong code (attempts left shown), hand the order
// over with the customer's code, see an overdue pickup apart, switch to German.
// Screenshots of every step go to testdata/artefacts/.
func TestStoreConsoleStaffPickAndHandOver(t *testing.T) {
	t.Parallel()
	s := newSystem(t, fastPolicy())
	id := "E2E-C-" + s.suffix
	body := s.orderBody(id, "ship_to_store")
	body["customer"].(map[string]string)["name"] = "Jörg Überall"
	if st, body := s.do(http.MethodPost, "/v1/orders", s.tokens["checkout"], body); st != http.StatusCreated {
		t.Fatalf("place order: %d %v", st, body)
	}
	s.waitStage(id, "picking")
	// Two more orders of Berlin Mitte as the workflows would have written them: one
	// waiting for another customer, one whose pickup deadline has passed.
	other, overdue := "E2E-R-"+s.suffix, "E2E-O-"+s.suffix
	overdueDeadline := time.Now().Add(-time.Hour).Truncate(time.Minute)
	s.projectReady(other, "Anna Berg", time.Now().Add(72*time.Hour))
	s.projectReady(overdue, "Chris Late", overdueDeadline)

	b := newBrowser(t)
	card := func(list, id string) string { return fmt.Sprintf("#%s article[data-order=%q]", list, id) }

	// 1. Sign in with the staff token of Berlin Mitte, on a device set to New
	// York's time: the store's times are Berlin's all the same.
	b.do("set the device to New York time", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: deviceZone})
		return err
	}))
	b.do("open the console", chromedp.Navigate(s.url+"/store/"), chromedp.WaitVisible(chromedp.ID("token")))
	b.waitFor("the page in English", `document.documentElement.lang === "en"`, `document.documentElement.lang`)
	b.waitFor("the device in New York", fmt.Sprintf(`Intl.DateTimeFormat().resolvedOptions().timeZone === %q`, deviceZone),
		`Intl.DateTimeFormat().resolvedOptions().timeZone`)
	b.screenshot("01-signin")
	b.do("sign in", chromedp.SendKeys(chromedp.ID("token"), s.tokens["berlin"]), chromedp.Tap(chromedp.CSS("#signin button[type=submit]")))
	b.waitText("#who", "Berlin Mitte")
	b.do("the sign-in form goes away", chromedp.WaitNotVisible(chromedp.ID("signin")))

	// 2. The order is on the pick list with the ordered quantities; one strap less
	// marks its line short; confirm the full pick.
	b.do("see the order on the pick list", chromedp.WaitVisible(chromedp.CSS(card("pick", id))))
	quantities := b.eval(fmt.Sprintf(`JSON.stringify(Object.fromEntries([...document.querySelectorAll(%q)].map((i) => [i.dataset.sku, i.value])))`, card("pick", id)+" input[data-sku]"))
	if want := `{"WATCH-001":"1","STRAP-LEA-20":"2"}`; quantities != want {
		t.Errorf("prefilled pick quantities = %s, want %s", quantities, want)
	}
	b.checkTouchTargets()
	b.checkNoHorizontalScroll()
	b.screenshot("02-pick-list")
	// Starting the pick tells the customer their order is being packed; the card
	// then says who is on it.
	b.do("start picking", chromedp.Tap(chromedp.CSS(card("pick", id)+" .actions button.secondary")))
	b.waitGone(card("pick", id) + " .actions button.secondary")
	if n := len(s.waitOutbox(id, id+":notify:in-picking:email")[id+":notify:in-picking:email"]); n != 1 {
		t.Errorf("in-picking emails after starting the pick: %d, want 1", n)
	}
	b.do("one strap less", chromedp.Tap(chromedp.CSS(card("pick", id)+` button[aria-label="One less STRAP-LEA-20"]`)))
	b.waitText(card("pick", id)+" tr.short .short-label", "short 1")
	b.waitText(card("pick", id)+" .actions button.confirm", "Confirm short pick")
	b.screenshot("02b-short-line")
	b.do("the strap is there after all", chromedp.Tap(chromedp.CSS(card("pick", id)+` button[aria-label="One more STRAP-LEA-20"]`)))
	b.waitText(card("pick", id)+" .actions button.confirm", "Confirm pick")
	b.do("confirm the pick", chromedp.Tap(chromedp.CSS(card("pick", id)+" .actions button.confirm")))
	b.waitText("#notice", "Pick confirmed for "+id)

	// 3. Once picked, the order waits under "Ready for pickup" (the page refreshes every 10 s).
	b.do("see the order ready for pickup", chromedp.WaitVisible(chromedp.CSS(card("ready", id))))
	b.waitGone(card("pick", id))
	meta := b.eval(fmt.Sprintf(`document.querySelector(%q).textContent`, card("ready", id)+" .meta"))
	if strings.Contains(meta, "pick by") || !strings.Contains(meta, "collect by") {
		t.Errorf("a ready order's card says %q, want a pickup deadline and no pick-by time", meta)
	}
	b.waitText(card("ready", id)+" .customer", "Jörg Überall")
	b.waitText(card("ready", id)+" .attempts", "Attempts left: 5")
	b.screenshot("03-ready-for-pickup")

	// 4. The overdue order is in a section of its own, not among the ready ones.
	b.do("see the overdue order", chromedp.WaitVisible(chromedp.CSS(card("overdue", overdue))))
	b.waitGone(card("ready", overdue))
	b.waitText("#overdue-count", "1")
	if meta := b.eval(fmt.Sprintf(`document.querySelector(%q).textContent`, card("overdue", overdue)+" .meta")); !strings.Contains(meta, "deadline passed") {
		t.Errorf("the overdue order's card says %q, want \"deadline passed\"", meta)
	} else if want, device := inZone(t, overdueDeadline, "Europe/Berlin"), inZone(t, overdueDeadline, deviceZone); !strings.Contains(meta, want) || strings.Contains(meta, device) {
		t.Errorf("the overdue order's card says %q, want the deadline in the store's time (%s), not the device's (%s)", meta, want, device)
	}
	b.do("scroll to the overdue pickups", chromedp.ScrollIntoView(chromedp.ID("sec-overdue")))
	b.checkNoHorizontalScroll()
	b.screenshot("04-overdue")

	// 5. At the counter: find the order by the customer's name (typed without
	// accents), refuse a wrong code, hand over.
	code := s.pickupCode(id)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	b.do("search a name nobody has", chromedp.SendKeys(chromedp.ID("search"), "nobody"))
	b.waitText("#ready .empty", "No order matches the search.")
	b.do("search the customer's name", chromedp.SendKeys(chromedp.ID("search"), strings.Repeat(kb.Backspace, len("nobody"))+"uberall"))
	b.waitFor("only the order searched for", fmt.Sprintf(`document.querySelectorAll("#ready article, #overdue article").length === 1 && document.querySelector(%q) !== null`, card("ready", id)),
		`document.querySelector("#work").innerText`)
	b.screenshot("05-search-by-name")
	codeInput, handOver := card("ready", id)+" .actions input", card("ready", id)+" .actions button"
	b.do("type a wrong code", chromedp.SendKeys(chromedp.CSS(codeInput), wrong))
	// The customer reads the code out slowly: the page's refresh must not wipe it.
	b.waitRefresh(card("ready", id))
	if got := b.eval(fmt.Sprintf(`document.querySelector(%q).value`, codeInput)); got != wrong {
		t.Errorf("after a refresh the code field holds %q, want the typed %q", got, wrong)
	}
	b.do("hand over with the wrong code", chromedp.Tap(chromedp.CSS(handOver)))
	b.waitText(card("ready", id)+" .error", "Wrong pickup code. Check the code with the customer. Attempts left: 4")
	b.waitText(card("ready", id)+" .attempts", "Attempts left: 4")
	b.checkTouchTargets()
	b.screenshot("06-wrong-code")
	b.do("type the right code over the wrong one", chromedp.SendKeys(chromedp.CSS(codeInput), strings.Repeat(kb.Backspace, len(wrong))+code))
	if got := b.eval(fmt.Sprintf(`document.querySelector(%q).value`, codeInput)); got != code {
		t.Fatalf("the code field holds %q, want %q", got, code)
	}
	b.do("hand over", chromedp.Tap(chromedp.CSS(handOver)))
	// The review request follows two seconds after the handover, so look at once.
	s.waitStage(id, "picked_up")
	b.waitText("#notice", "Handed over: "+id)
	b.waitGone(card("ready", id))
	b.screenshot("07-handed-over")

	// 6. Deutsch.
	b.do("clear the search", chromedp.SendKeys(chromedp.ID("search"), strings.Repeat(kb.Backspace, len("uberall"))))
	b.do("switch to German", chromedp.Tap(chromedp.ID("lang")))
	b.waitText(`#work [data-t="pick"]`, "Pickliste")
	b.waitText(`#work [data-t="overdue"]`, "Abholfrist abgelaufen")
	b.waitText("#lang", "EN")
	b.checkNoHorizontalScroll()
	b.screenshot("08-deutsch")

	b.checkConsole()
}

// deviceZone is the time zone of the browser's device: not the store's.
const deviceZone = "America/New_York"

// inZone is the time of day of at in zone, as the console shows it ("14:05").
func inZone(t *testing.T, at time.Time, zone string) string {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return at.In(loc).Format("15:04")
}

// projectReady writes an order of Berlin Mitte waiting for its customer into the
// projection, with a pick task, as the workflows would have: the console reads
// only PostgreSQL. No workflow runs for it.
func (s *system) projectReady(id, customer string, deadline time.Time) {
	s.t.Helper()
	ctx := context.Background()
	now := time.Now()
	lines := []domain.Line{{SKU: "WATCH-001", Name: "Automatic watch", Quantity: 1, UnitPrice: 24900}}
	if err := s.store.CreatePickTask(ctx, activities.PickTask{OrderID: id, LocationID: "berlin-mitte", Lines: lines, DueAt: now}); err != nil {
		s.t.Fatal(err)
	}
	if err := s.store.CompletePickTask(ctx, activities.PickResult{OrderID: id, Picked: []domain.PickedLine{{SKU: "WATCH-001", Quantity: 1}}, By: "e2e", At: now}); err != nil {
		s.t.Fatal(err)
	}
	sum := activities.OrderSummary{OrderID: id, CustomerID: "C-" + id, Method: domain.MethodShipToStore, StoreID: "berlin-mitte",
		LocationID: "berlin-mitte", Total: 24900, Currency: "EUR", PlacedAt: now.Add(-time.Hour), CustomerName: customer, PickupDeadline: &deadline}
	if err := s.store.RecordStage(ctx, activities.StageChange{Order: sum, Stage: "ready_for_pickup", At: now}); err != nil {
		s.t.Fatal(err)
	}
}

// stepTimeout bounds every browser step, so that a hung browser fails the test
// well within a minute even on a loaded CI machine.
const stepTimeout = 30 * time.Second

// startTimeout bounds starting Chromium and opening its first tab. A fresh
// Chromium on a loaded CI machine (two cores, every package's tests beside it)
// once took longer than stepTimeout to open its first tab, after it had printed
// its DevTools address (chromedp allows 20 s for that part).
const startTimeout = 2 * time.Minute

// browser is one tab of a headless Chromium that lives as long as the test.
type browser struct {
	t         *testing.T
	ctx       context.Context
	artefacts string
	failShot  string // the screenshot's name when a step fails: <test>-failed

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// chromiumPath finds the browser: CHROMIUM_PATH (set by make test), else Debian's.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM_PATH"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("CHROMIUM_PATH=%s is not an executable: %v", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("/usr/bin/chromium"); err == nil {
		return p
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Fatal("no Chromium for the browser test: install it (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH")
	return ""
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	artefacts := filepath.Join("testdata", "artefacts")
	if err := os.MkdirAll(artefacts, 0o755); err != nil {
		t.Fatal(err)
	}
	// Each test has its own log and failure screenshot: the browser tests run in parallel.
	name := strings.ReplaceAll(t.Name(), "/", "_")
	failShot := name + "-failed"
	if err := os.Remove(filepath.Join(artefacts, failShot+".png")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(artefacts, name+"-chromium.log"))
	if err != nil {
		t.Fatal(err)
	}
	path := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.Env("LANGUAGE=en_US", "LANG=en_US.UTF-8"),
		chromedp.WindowSize(1024, 768),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(logFile),
		chromedp.WSURLReadTimeout(startTimeout),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = chromedp.Cancel(closeCtx) // a browser that does not close gracefully is killed below
		cancelTab()
		cancelAlloc()
		_ = logFile.Close() // only Chromium's own log; nothing to lose
	})

	// The first Do starts Chromium and binds it to ctx, so it takes no timeout of
	// its own; a browser that does not come up in time fails the test here.
	began := time.Now()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start %s: %v\n%s", path, err, logTail(logFile.Name()))
		}
	case <-time.After(startTimeout):
		t.Fatalf("Chromium did not start and open a tab within %s\n%s", startTimeout, logTail(logFile.Name()))
	}
	t.Logf("Chromium started and opened a tab in %s", time.Since(began).Round(time.Millisecond))

	b := &browser{t: t, ctx: ctx, artefacts: artefacts, failShot: failShot}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return // the tab closed
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	b.do("emulate a 1024×768 touch screen", chromedp.EmulateViewport(1024, 768, chromedp.EmulateTouch))
	return b
}

// do runs steps within stepTimeout; on failure it saves a screenshot and stops the test.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

// eval returns the string value of a JavaScript expression.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	return v
}

// waitFor polls the page until cond is true; on timeout it reports what describe
// (a JavaScript expression) says about the page then.
func (b *browser) waitFor(what, cond, describe string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
	if err != nil {
		now, _ := chromedp.Run(b.quick(), chromedp.Evaluate[string](`String(`+describe+`)`)) // best effort, for the message
		b.fail(fmt.Sprintf("%s (now %q)", what, now), err)
	}
}

// quick is a short context for diagnostics after a failed step.
func (b *browser) quick() context.Context {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	b.t.Cleanup(cancel)
	return ctx
}

func jsString(s string) string {
	q, _ := json.Marshal(s) // a string always marshals
	return string(q)
}

// waitText waits until the element's trimmed text is want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	text := fmt.Sprintf(`(document.querySelector(%s)?.textContent ?? "<missing>").trim()`, jsString(sel))
	b.waitFor(fmt.Sprintf("%s to say %q", sel, want), text+" === "+jsString(want), text)
}

// waitGone waits until no element matches sel.
func (b *browser) waitGone(sel string) {
	b.t.Helper()
	b.waitFor(sel+" to go away", fmt.Sprintf(`document.querySelector(%s) === null`, jsString(sel)), `document.querySelector("#work").innerText`)
}

// waitRefresh waits for the page's periodic refresh to render the element anew.
func (b *browser) waitRefresh(sel string) {
	b.t.Helper()
	b.eval(fmt.Sprintf(`(document.querySelector(%s).dataset.seen = "1", "")`, jsString(sel)))
	b.waitFor("a refresh of "+sel, fmt.Sprintf(`document.querySelector(%s)?.dataset.seen === undefined`, jsString(sel)), `"no refresh"`)
}

// checkTouchTargets reports visible buttons and fields smaller than a fingertip
// (44×44 CSS pixels, the WCAG 2.5.5 size).
func (b *browser) checkTouchTargets() {
	b.t.Helper()
	small := b.eval(`JSON.stringify([...document.querySelectorAll("button, input")]
		.filter((e) => e.offsetParent !== null)
		.map((e) => [e.id || e.getAttribute("aria-label") || e.textContent, e.getBoundingClientRect()])
		.filter(([, r]) => r.width < 44 || r.height < 44)
		.map(([name, r]) => name + " " + Math.round(r.width) + "×" + Math.round(r.height)))`)
	if small != "[]" {
		b.t.Errorf("touch targets smaller than 44×44: %s", small)
	}
}

// checkNoHorizontalScroll reports a page wider than the 1024-pixel screen.
func (b *browser) checkNoHorizontalScroll() {
	b.t.Helper()
	wide := b.eval(`JSON.stringify([...document.querySelectorAll("body *")]
		.filter((e) => e.offsetParent !== null && e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
		.slice(0, 5).map((e) => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)))`)
	if w := b.eval(`String(document.documentElement.scrollWidth - document.documentElement.clientWidth)`); w != "0" || wide != "[]" {
		b.t.Errorf("the page scrolls sideways by %s pixels on a 1024-pixel screen; too wide: %s", w, wide)
	}
}

// screenshot saves the whole page as testdata/artefacts/<name>.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if err := b.saveScreenshot(b.ctx, name); err != nil {
		b.fail("screenshot "+name, err)
	}
}

func (b *browser) saveScreenshot(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(b.artefacts, name+".png"), png, 0o644)
}

// fail saves what the page looked like and stops the test.
func (b *browser) fail(what string, err error) {
	b.t.Helper()
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, chromedp.ErrPollingTimeout) {
		err = fmt.Errorf("not within %s: %w", stepTimeout, err)
	}
	if shotErr := b.saveScreenshot(b.quick(), b.failShot); shotErr == nil {
		b.t.Logf("the page at the failure: %s", filepath.Join(b.artefacts, b.failShot+".png"))
	}
	b.logConsole()
	b.t.Fatalf("%s: %v", what, err)
}

// logTail is the end of Chromium's log, for a failure message: CI prints the
// test's output, not the artefacts.
func logTail(name string) string {
	const most = 4 << 10
	out, err := os.ReadFile(name)
	if err != nil {
		return fmt.Sprintf("(Chromium's log %s: %v)", name, err)
	}
	if len(out) > most {
		out = out[len(out)-most:]
	}
	return fmt.Sprintf("the end of Chromium's log (%s):\n%s", name, out)
}

func (b *browser) logConsole() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		b.t.Logf("browser console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line)
	}
}

// checkConsole fails the test on uncaught exceptions and on requests that the
// Content-Security-Policy blocked; a failed request (the 422 of a wrong code) is
// expected and only logged.
func (b *browser) checkConsole() {
	b.t.Helper()
	b.logConsole()
	b.mu.Lock()
	defer b.mu.Unlock()
	var bad []string
	for _, m := range b.console {
		if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
			bad = append(bad, m.Text)
		}
	}
	if len(bad) > 0 {
		b.t.Errorf("the page reported errors: %q", bad)
	}
}
