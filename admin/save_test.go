package admin_test

// The tests of saving: what a save refuses before it sends anything,
// that one save is in flight at a time, and what a save does when the
// table changed since the list was loaded.

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// changesShown returns the changed lines of the diff a panel of the
// editor shows.
func (pg *page) changesShown(ed, panel string) []string {
	pg.t.Helper()
	return eval[[]string](pg, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).map((li) => li.textContent)`,
		jsString(ed+" .panel."+panel+" .diff li:not(.same)")))
}

// saveAndConfirm shows an editor's changes and confirms them, returning
// the message that says how the save went.
func (pg *page) saveAndConfirm(ed string) string {
	pg.t.Helper()
	pg.click(ed + ` button[data-op=save]`)
	return pg.confirmSave(ed)
}

func TestRenamingOrCreatingAListOntoAnExistingOneIsRefused(t *testing.T) {
	pg := openPage(t, pageOptions{})
	pg.setToken(token)
	appl1, gen := pg.fetch("front", "/appl1")
	appl2, _ := pg.fetch("front", "/appl2")
	static, _ := pg.fetch("front", "/static")

	// Renaming /appl2 onto /appl1, which has a row, would merge the two.
	ed := pg.openList("front", "/appl2")
	pg.typeText(ed+" .list-uri", "/appl1")
	want := "Not saved: front /appl1 exists already with 1 row: open it to edit it, or choose another key or uri. Your changes are kept."
	if msg := pg.saveAndConfirm(ed); msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if got, g := pg.fetch("front", "/appl1"); !reflect.DeepEqual(summary(got), summary(appl1)) || g != gen {
		t.Fatalf("/appl1 has %q at generation %d, want %q at %d", summary(got), g, summary(appl1), gen)
	}
	if got := mustFetch(pg, "front", "/appl2"); !reflect.DeepEqual(summary(got), summary(appl2)) {
		t.Fatalf("/appl2 has %q", summary(got))
	}
	if uri := eval[string](pg, fmt.Sprintf(`document.querySelector(%s).value`, jsString(ed+" .list-uri"))); uri != "/appl1" {
		t.Errorf("the uri typed is gone: %q", uri)
	}
	if got := shownSummary(pg.rows(ed)); !reflect.DeepEqual(got, summary(appl2)) {
		t.Errorf("the editor shows %q", got)
	}
	// Another uri is free: the list is renamed.
	pg.typeText(ed+" .list-uri", "/appl3")
	if msg := pg.saveAndConfirm(ed); !strings.HasPrefix(msg, "Saved front /appl3 (renamed)") {
		t.Fatalf("message %q", msg)
	}
	if got := mustFetch(pg, "front", "/appl3"); !reflect.DeepEqual(summary(got), summary(appl2)) {
		t.Errorf("/appl3 has %q", summary(got))
	}

	// A new list named like an existing one.
	pg.click(`.section[data-section=process] .new-list`)
	ed = editor("newkey", "/")
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s)`, jsString(ed+" .row.new")), "the new list")
	pg.key(`Proxy: 'http://shop/'.$URI`)
	pg.typeText(ed+" .list-key", "front")
	pg.typeText(ed+" .list-uri", "/static")
	want = "Not saved: front /static exists already with 1 row: open it to edit it, or choose another key or uri. Your changes are kept."
	if msg := pg.saveAndConfirm(ed); msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if got, g := pg.fetch("front", "/static"); !reflect.DeepEqual(summary(got), summary(static)) || g != gen+1 {
		t.Fatalf("/static has %q at generation %d", summary(got), g)
	}
	if got := shownSummary(pg.rows(ed)); !reflect.DeepEqual(got, []string{`0.0 Proxy: 'http://shop/'.$URI`}) {
		t.Errorf("the new list shows %q", got)
	}
	// Under a free name it is saved, and not said to be renamed.
	pg.typeText(ed+" .list-uri", "/shop")
	if msg := pg.saveAndConfirm(ed); !strings.HasPrefix(msg, "Saved front /shop") || strings.Contains(msg, "renamed") {
		t.Errorf("message %q", msg)
	}
	if got := summary(mustFetch(pg, "front", "/shop")); !reflect.DeepEqual(got, []string{`0.0 Proxy: 'http://shop/'.$URI`}) {
		t.Errorf("/shop has %q", got)
	}
}

func TestSaveInFlightIsExclusiveAndTheEditorIsReadOnly(t *testing.T) {
	pg, ed, rows, gen := editing(t, token, "front", "/static")
	mine := `File: '/srv/'.$MATCHED_PATH_INFO`
	pg.typeText(row(ed, rows[0].ID)+" .action", mine)
	pg.watchFetch(1500 * time.Millisecond)
	pg.click(ed + ` button[data-op=save]`)
	pg.do(evalVoid(`document.querySelector('#message').textContent = ''`))
	// A double click on the confirm button.
	pg.do(evalVoid(fmt.Sprintf(`(() => { const b = document.querySelector(%s); b.click(); b.click(); })()`,
		jsString(ed+" .panel.changes button[data-op=confirm-save]"))))
	if !pg.visible(ed + " .saving-mark") {
		t.Error("the page does not show that it is saving")
	}
	if n := pg.count(ed + " textarea:read-write, " + ed + " input:read-write"); n != 0 {
		t.Errorf("%d fields can be edited while saving", n)
	}
	// Typing and Ctrl-S while the save is in flight change nothing.
	pg.typeText(row(ed, rows[0].ID)+" .note", "typed while saving")
	pg.key("s", chromedp.ModifierCtrl)
	if got := shownSummary(pg.rows(ed)); !reflect.DeepEqual(got, []string{"0.0 " + mine}) {
		t.Errorf("while saving the editor shows %q", got)
	}
	pg.waitFor(`document.querySelector('#message').textContent !== '' && window.inflight === 0`, "the save")
	if msg, want := pg.text("#message"), fmt.Sprintf("Saved front /static: 1 changes, generation %d.", gen+1); msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if n := eval[int](pg, `window.sent.POST`); n != 1 {
		t.Errorf("%d transactions sent, want 1", n)
	}
	if stored, g := pg.fetch("front", "/static"); !reflect.DeepEqual(summary(stored), []string{"0.0 " + mine}) || g != gen+1 {
		t.Errorf("stored %q at generation %d", summary(stored), g)
	}
	if pg.visible(ed+" .panel") || pg.visible(ed+" .saving-mark") || pg.visible(ed+" .dirty-mark") {
		t.Errorf("after the save: panel %q, saving shown %v, changed shown %v",
			pg.text(ed+" .panel"), pg.visible(ed+" .saving-mark"), pg.visible(ed+" .dirty-mark"))
	}
	// The editor is editable again.
	pg.typeText(ed+" .row .note", "typed after the save")
	if got := shownSummary(pg.rows(ed)); !reflect.DeepEqual(got, []string{"0.0 " + mine + " # typed after the save"}) {
		t.Errorf("after the save the editor shows %q", got)
	}
}

func TestSavingOneListDoesNotRefuseTheOtherOpenLists(t *testing.T) {
	pg := openPage(t, pageOptions{})
	pg.setToken(token)
	a := pg.openList("front", "/static")
	b := pg.openList("front", "/appl1")
	ra, gen := pg.fetch("front", "/static")
	rb, _ := pg.fetch("front", "/appl1")
	pg.typeText(row(a, ra[0].ID)+" .note", "note a")
	pg.typeText(row(b, rb[0].ID)+" .note", "note b")
	if msg, want := pg.saveAndConfirm(a), fmt.Sprintf("Saved front /static: 1 changes, generation %d.", gen+1); msg != want {
		t.Fatalf("message %q, want %q", msg, want)
	}
	// The other list was loaded from the generation before: the page
	// sees that the list itself did not change, and saves it on top.
	if msg, want := pg.saveAndConfirm(b), fmt.Sprintf("Saved front /appl1: 1 changes, generation %d.", gen+2); msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if pg.visible(b + " .panel") {
		t.Errorf("panel %q", pg.text(b+" .panel"))
	}
	for _, l := range []struct{ uri, note string }{{"/static", "note a"}, {"/appl1", "note b"}} {
		if got := mustFetch(pg, "front", l.uri); len(got) != 1 || got[0].Note == nil || *got[0].Note != l.note {
			t.Errorf("%s has %q, want the note %q", l.uri, summary(got), l.note)
		}
	}
	if _, g := pg.fetch("front", "/appl1"); g != gen+2 {
		t.Errorf("generation %d, want %d", g, gen+2)
	}
	if got := pg.text(b + " .loaded"); got != fmt.Sprintf("loaded from generation %d", gen+2) {
		t.Errorf("loaded %q", got)
	}
}

func TestConflictKeepsTheOtherChangeToRowsIDidNotTouch(t *testing.T) {
	pg, ed, rows, _ := editing(t, token, "front", ":PRE:")
	condA := idOf(t, rows, `Cond: $HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/`)
	condDE := idOf(t, rows, `Cond: $HOSTNAME =~ /de$/`)
	// Mine: a note on the first row, a row deleted, a row added at the
	// end of the first block.
	pg.typeText(row(ed, condA)+" .note", "my note")
	pg.click(row(ed, condDE) + ` button[data-op=delete]`)
	pg.do(chromedp.Focus(chromedp.CSS(ed + " .block .row:last-child .action")))
	pg.key(".", chromedp.ModifierCtrl)
	pg.waitFor(`document.activeElement.closest('.row.new')`, "the new action")
	pg.key(`Do: $CTX{mine}=1`)
	// Theirs, meanwhile: a new first row, which moves the first block's
	// rows, and a change to the last row.
	last := rows[len(rows)-1]
	pg.txn(fmt.Sprintf(`{"ops":[
		{"op":"update","old":{"key":"front","uri":":PRE:","block":0,"order":1,"id":%d},"new":{"key":"front","uri":":PRE:","block":0,"order":2,"action":%s}},
		{"op":"update","old":{"key":"front","uri":":PRE:","block":0,"order":0,"id":%d},"new":{"key":"front","uri":":PRE:","block":0,"order":1,"action":%s}},
		{"op":"insert","key":"front","uri":":PRE:","block":0,"order":0,"action":"Do: $CTX{theirs}=1"},
		{"op":"update","old":{"key":"front","uri":":PRE:","block":1,"order":2,"id":%d},"new":{"key":"front","uri":":PRE:","block":1,"order":2,"action":"Do: $CTX{lang}='THEIRS'"}}]}`,
		rows[1].ID, jsString(rows[1].Action), rows[0].ID, jsString(rows[0].Action), last.ID))
	theirs, other := pg.fetch("front", ":PRE:")

	if msg := pg.saveAndConfirm(ed); !strings.HasPrefix(msg, "Not saved") {
		t.Fatalf("message %q", msg)
	}
	if got := summary(mustFetch(pg, "front", ":PRE:")); !reflect.DeepEqual(got, summary(theirs)) {
		t.Fatalf("the refused save wrote: %q", got)
	}
	// My changes are made again on the list as it is now.
	want := []string{
		`0.0 Do: $CTX{theirs}=1`,
		`0.1 Cond: $HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/ # my note`,
		`0.2 Redirect: 'http://xyz.com'.$URI, 301`,
		`0.3 Do: $CTX{mine}=1`,
		`1.0 Do: $CTX{lang}='en'`,
		`1.1 Do: $CTX{lang}='THEIRS'`,
	}
	if got := shownSummary(pg.rows(ed)); !reflect.DeepEqual(got, want) {
		t.Errorf("after the conflict the editor shows\n%q\nwant\n%q", got, want)
	}
	// Saving again makes only my changes.
	pg.click(ed + ` button[data-op=save]`)
	wantDiff := []string{
		"- Cond: $HOSTNAME !~ /^(?:www\\.)xyz\\.(?:com|de)$/",
		"+ Cond: $HOSTNAME !~ /^(?:www\\.)xyz\\.(?:com|de)$/\n      # my note",
		"+ Do: $CTX{mine}=1",
		"- Cond: $HOSTNAME =~ /de$/",
	}
	if got := pg.changesShown(ed, "changes"); !reflect.DeepEqual(got, wantDiff) {
		t.Errorf("the second save shows\n%q\nwant\n%q", got, wantDiff)
	}
	if msg := pg.confirmSave(ed); !strings.HasPrefix(msg, "Saved front :PRE:") {
		t.Fatalf("message %q", msg)
	}
	if got, g := pg.fetch("front", ":PRE:"); !reflect.DeepEqual(summary(got), want) || g != other+1 {
		t.Errorf("stored\n%q\nat generation %d, want\n%q\nat %d", summary(got), g, want, other+1)
	}
}

func TestNewRowWithANoteButNoActionIsRefusedByName(t *testing.T) {
	pg, ed, rows, gen := editing(t, token, "front", "/static")
	pg.typeText(row(ed, rows[0].ID)+" .note", "edited")
	pg.do(chromedp.Focus(chromedp.CSS(row(ed, rows[0].ID) + " .action")))
	pg.key(".", chromedp.ModifierCtrl)
	pg.typeText(ed+" .row.new .note", "TODO: the proxy rule")
	pg.do(evalVoid(`document.querySelector('#message').textContent = ''`))
	pg.click(ed + ` button[data-op=save]`)
	pg.waitFor(`document.querySelector('#message').textContent !== ''`, "the answer")
	want := "Not saved: row 0.1 has a note but no action: write its action, or delete the row. Your changes are kept."
	if msg := pg.text("#message"); msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if pg.visible(ed + " .panel") {
		t.Errorf("panel shown: %q", pg.text(ed+" .panel"))
	}
	if stored, g := pg.fetch("front", "/static"); !reflect.DeepEqual(summary(stored), summary(rows)) || g != gen {
		t.Fatalf("stored %q at generation %d", summary(stored), g)
	}
	mine := []string{"0.0 " + rows[0].Action + " # edited", "0.1  # TODO: the proxy rule"}
	if got := shownSummary(pg.rows(ed)); !reflect.DeepEqual(got, mine) {
		t.Errorf("the editor shows %q, want %q", got, mine)
	}
	// With an action it is saved.
	pg.typeText(ed+" .row.new .action", "Done")
	if msg := pg.saveAndConfirm(ed); !strings.HasPrefix(msg, "Saved front /static") {
		t.Fatalf("message %q", msg)
	}
	want2 := []string{"0.0 " + rows[0].Action + " # edited", "0.1 Done # TODO: the proxy rule"}
	if got := summary(mustFetch(pg, "front", "/static")); !reflect.DeepEqual(got, want2) {
		t.Errorf("stored %q, want %q", got, want2)
	}
}

func TestTokenABrowserCannotSendIsRefusedWithAClearMessage(t *testing.T) {
	pg, ed, rows, gen := editing(t, "", "front", "/static")
	mine := `File: '/srv/'.$MATCHED_PATH_INFO`
	pg.typeText(row(ed, rows[0].ID)+" .action", mine)
	const bad = "the token holds characters a browser cannot send in a header: use an ASCII token"
	for _, tok := range []string{"p€ss", "pässwort"} {
		pg.do(evalVoid(`document.querySelector('#message').textContent = ''`))
		pg.typeText("#token", tok)
		pg.click(`#token-form button[type=submit]`)
		pg.waitFor(`document.querySelector('#message').textContent !== ''`, "the answer")
		if msg, want := pg.text("#message"), "Token not taken: "+bad+"."; msg != want {
			t.Errorf("token %q: message %q, want %q", tok, msg, want)
		}
		if !pg.visible("#token-form") || eval[bool](pg, `sessionStorage.getItem('transdb-admin-token') !== null`) {
			t.Errorf("token %q was taken", tok)
		}
	}
	// One kept in the tab from before is not sent either.
	pg.do(evalVoid(`sessionStorage.setItem('transdb-admin-token', 'p€ss')`))
	if msg, want := pg.saveAndConfirm(ed), "Not saved: "+bad+". Your changes are kept."; msg != want {
		t.Errorf("message %q, want %q", msg, want)
	}
	if stored, g := pg.fetch("front", "/static"); !reflect.DeepEqual(summary(stored), summary(rows)) || g != gen {
		t.Fatalf("stored %q at generation %d", summary(stored), g)
	}
	if got := shownSummary(pg.rows(ed)); !reflect.DeepEqual(got, []string{"0.0 " + mine}) {
		t.Errorf("the editor shows %q", got)
	}
	pg.setToken(token)
	if msg := pg.saveAndConfirm(ed); !strings.HasPrefix(msg, "Saved front /static") {
		t.Fatalf("message %q", msg)
	}
	if stored, g := pg.fetch("front", "/static"); !reflect.DeepEqual(summary(stored), []string{"0.0 " + mine}) || g != gen+1 {
		t.Errorf("stored %q at generation %d", summary(stored), g)
	}
}
