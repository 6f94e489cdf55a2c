package admin_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"transdb/translation"
)

// row returns the CSS selector of the row of a stored record in an
// editor.
func row(ed string, id uint64) string {
	return fmt.Sprintf(`%s .row[data-id="%d"]`, ed, id)
}

// idOf returns the id of the stored row with the action.
func idOf(t *testing.T, rows []storedRow, action string) uint64 {
	t.Helper()
	for _, r := range rows {
		if r.Action == action {
			return r.ID
		}
	}
	t.Fatalf("no row %q in %q", action, summary(rows))
	return 0
}

// confirmSave confirms the changes the editor shows and waits for the
// message that says how the save went.
func (pg *page) confirmSave(ed string) string {
	pg.t.Helper()
	pg.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#message').textContent = ''`))
	pg.click(ed + ` .panel.changes button[data-op=confirm-save]`)
	pg.waitFor(`document.querySelector('#message').textContent !== ''`, "the save")
	return pg.text("#message")
}

func TestEditInsertDeleteMoveAndSaveInOneTransaction(t *testing.T) {
	pg := openPage(t, pageOptions{})
	pg.setToken(token)
	ed := pg.openList("front", ":PRE:")
	before, gen := pg.fetch("front", ":PRE:")
	condA := idOf(t, before, `Cond: $HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/`)
	redirect := idOf(t, before, `Redirect: 'http://xyz.com'.$URI, 301`)
	doEN := idOf(t, before, `Do: $CTX{lang}='en'`)
	condDE := idOf(t, before, `Cond: $HOSTNAME =~ /de$/`)
	doDE := idOf(t, before, `Do: $CTX{lang}='de'`)

	// Edit an action and a note.
	pg.typeText(row(ed, doEN)+" .action", `Do: $CTX{lang}='fr'`)
	pg.typeText(row(ed, redirect)+" .note", "send foreign hosts home")
	// A new action below the last one, by the keyboard.
	pg.do(chromedp.Focus(chromedp.CSS(row(ed, doDE) + " .action")))
	pg.key(".", chromedp.ModifierCtrl)
	pg.waitFor(`document.activeElement.closest('.row.new')`, "the new action")
	pg.key(`Do: $CTX{region}='eu'`)
	// A new block above the first, by its button.
	pg.click(row(ed, condA) + ` button[data-op=block-above]`)
	pg.waitFor(`document.activeElement.closest('.row.new') && document.activeElement.value === ''`, "the new block")
	pg.key(`Do: $CTX{seen}=1`)
	// Delete a row by the keyboard, move one up by its button.
	pg.do(chromedp.Focus(chromedp.CSS(row(ed, condDE) + " .action")))
	pg.key("D", chromedp.ModifierCtrl, chromedp.ModifierShift)
	pg.waitFor(fmt.Sprintf(`!document.querySelector(%s)`, jsString(row(ed, condDE))), "the deleted row")
	pg.click(row(ed, doDE) + ` button[data-op=up]`)

	want := []string{
		`0.0 Do: $CTX{seen}=1`,
		`1.0 Cond: $HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/`,
		`1.1 Redirect: 'http://xyz.com'.$URI, 301 # send foreign hosts home`,
		`2.0 Do: $CTX{lang}='de'`,
		`2.1 Do: $CTX{lang}='fr'`,
		`2.2 Do: $CTX{region}='eu'`,
	}
	if got := shownSummary(pg.rows(ed)); !reflect.DeepEqual(got, want) {
		t.Fatalf("the editor shows\n%q\nwant\n%q", got, want)
	}
	if !pg.visible(ed + " .dirty-mark") {
		t.Error("the editor does not say the list changed")
	}

	// Ctrl-S shows the changes first; nothing is saved yet.
	pg.key("s", chromedp.ModifierCtrl)
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s)`, jsString(ed+" .panel.changes")), "the changes")
	diff := eval[[]string](pg, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).map((li) => li.textContent)`, jsString(ed+" .diff li:not(.same)")))
	for _, line := range []string{`+ Do: $CTX{seen}=1`, `- Cond: $HOSTNAME =~ /de$/`, `- Do: $CTX{lang}='en'`, `+ Do: $CTX{lang}='fr'`} {
		if !containsString(diff, line) {
			t.Errorf("the changes %q lack %q", diff, line)
		}
	}
	if h := pg.text(ed + " .panel.changes h3"); h != "Changes to save: 4 updated, 2 new, 1 deleted" {
		t.Errorf("changes heading %q", h)
	}
	if _, g := pg.fetch("front", ":PRE:"); g != gen {
		t.Fatalf("showing the changes committed generation %d", g)
	}
	// Ctrl-S again saves them, in one transaction.
	pg.key("s", chromedp.ModifierCtrl)
	pg.waitFor(`/Saved/.test(document.querySelector('#message').textContent)`, "the save")
	after, g := pg.fetch("front", ":PRE:")
	if got := summary(after); !reflect.DeepEqual(got, want) {
		t.Errorf("the database has\n%q\nwant\n%q", got, want)
	}
	if g != gen+1 {
		t.Errorf("generation %d after the save, want %d: one transaction", g, gen+1)
	}
	// The editor shows the list as saved.
	pg.waitFor(fmt.Sprintf(`document.querySelectorAll(%s).length === 0`, jsString(ed+" .row.new")), "the saved list")
	if got := shownSummary(pg.rows(ed)); !reflect.DeepEqual(got, want) {
		t.Errorf("after the save the editor shows %q", got)
	}
	if got := pg.text(ed + " .loaded"); got != fmt.Sprintf("loaded from generation %d", gen+1) {
		t.Errorf("loaded %q", got)
	}

	// Reload and close by the keyboard: a change is not thrown away
	// without asking.
	// (An update is a delete and an insert: the saved rows have new ids.)
	first := ed + " .row .action"
	pg.typeText(first, "Done")
	pg.key("C", chromedp.ModifierCtrl, chromedp.ModifierShift)
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s)`, jsString(ed+" .panel.ask button[data-op=discard-close]")), "the question")
	pg.key("\x1b") // Escape: back to editing
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s).hidden`, jsString(ed+" .panel")), "the question to go")
	pg.key("U", chromedp.ModifierCtrl, chromedp.ModifierShift)
	pg.click(ed + ` .panel.ask button[data-op=discard-reload]`)
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s).value === 'Do: $CTX{seen}=1'`, jsString(first)), "the reload")
	pg.do(chromedp.Focus(chromedp.CSS(first)))
	pg.key("C", chromedp.ModifierCtrl, chromedp.ModifierShift)
	pg.waitFor(`document.querySelectorAll('.editor').length === 0`, "the close")
	if _, g := pg.fetch("front", ":PRE:"); g != gen+1 {
		t.Errorf("discarded changes were committed: generation %d", g)
	}
}

func containsString(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func TestCreateRenameAndDeleteLists(t *testing.T) {
	pg := openPage(t, pageOptions{})
	pg.setToken(token)

	// A new list in the process section.
	pg.click(`.section[data-section=process] .new-list`)
	ed := editor("newkey", "/")
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s)`, jsString(ed+" .row.new")), "the new list")
	pg.key(`Proxy: 'http://shop/'.$URI`)
	pg.typeText(ed+" .row .note", "the new shop")
	pg.typeText(ed+" .list-key", "shop")
	pg.typeText(ed+" .list-uri", "/shop")
	pg.click(ed + ` button[data-op=save]`)
	if msg := pg.confirmSave(ed); !strings.HasPrefix(msg, "Saved shop /shop") {
		t.Fatalf("message %q", msg)
	}
	if got := summary(mustFetch(pg, "shop", "/shop")); !reflect.DeepEqual(got, []string{`0.0 Proxy: 'http://shop/'.$URI # the new shop`}) {
		t.Errorf("the new list: %q", got)
	}
	pg.waitFor(`document.querySelector('.lists li[data-key=shop]')`, "the new list in its section")

	// Rename a list: its rows move.
	ed = pg.openList("front", "/appl2")
	pg.typeText(ed+" .list-uri", "/appl3")
	pg.click(ed + ` button[data-op=save]`)
	if msg := pg.confirmSave(ed); !strings.Contains(msg, "renamed") {
		t.Fatalf("message %q", msg)
	}
	if rows := mustFetch(pg, "front", "/appl2"); len(rows) != 0 {
		t.Errorf("the renamed list is still there: %q", summary(rows))
	}
	if got := summary(mustFetch(pg, "front", "/appl3")); !reflect.DeepEqual(got, []string{`0.0 Proxy: 'http://backend/'.$URI.'?l='.$CTX{lang}`}) {
		t.Errorf("the renamed list: %q", got)
	}
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s) && !document.querySelector(%s)`,
		jsString(listItem("front", "/appl3")), jsString(listItem("front", "/appl2"))), "the renamed list in its section")

	// Deleting every action deletes the list.
	ed = pg.openList("back", "/appl1")
	pg.click(ed + ` .row button[data-op=delete]`)
	pg.click(ed + ` button[data-op=save]`)
	if msg := pg.confirmSave(ed); !strings.HasPrefix(msg, "Saved: deleted the list back /appl1") {
		t.Fatalf("message %q", msg)
	}
	if rows := mustFetch(pg, "back", "/appl1"); len(rows) != 0 {
		t.Errorf("the deleted list: %q", summary(rows))
	}
	pg.waitFor(fmt.Sprintf(`!document.querySelector(%s) && !document.querySelector(%s)`, jsString(ed), jsString(listItem("back", "/appl1"))), "the deleted list to go")
}

func mustFetch(pg *page, key, uri string) []storedRow {
	rows, _ := pg.fetch(key, uri)
	return rows
}

func TestSaveAgainstAChangedTableIsRefusedAndNothingIsLost(t *testing.T) {
	pg, ed, rows, loaded := editing(t, token, "front", "/static")
	mine := `File: '/srv/'.$MATCHED_PATH_INFO`
	theirs := `File: '/other/'.$MATCHED_PATH_INFO`
	pg.typeText(row(ed, rows[0].ID)+" .action", mine)
	pg.click(ed + ` button[data-op=save]`)
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s)`, jsString(ed+" .panel.changes")), "the changes")
	// Another writer commits a change of the same row meanwhile.
	other := pg.txn(fmt.Sprintf(`{"ops":[{"op":"update","old":{"key":"front","uri":"/static","block":0,"order":0,"id":%d},
		"new":{"key":"front","uri":"/static","block":0,"order":0,"action":%s}}]}`, rows[0].ID, jsString(theirs)))

	if msg := pg.confirmSave(ed); !strings.Contains(msg, "Not saved") || !strings.Contains(msg, fmt.Sprintf("generation %d, not %d", other, loaded)) {
		t.Errorf("message %q", msg)
	}
	// The other change is shown, the database keeps it, the editor
	// keeps mine.
	diff := eval[[]string](pg, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).map((li) => li.textContent)`, jsString(ed+" .panel.conflict .diff li:not(.same)")))
	if !reflect.DeepEqual(diff, []string{"- " + rows[0].Action, "+ " + theirs}) {
		t.Errorf("the conflict shows %q", diff)
	}
	if got := summary(mustFetch(pg, "front", "/static")); !reflect.DeepEqual(got, []string{"0.0 " + theirs}) {
		t.Fatalf("the other change was overwritten: %q", got)
	}
	shown := pg.rows(ed)
	if len(shown) != 1 || shown[0].Action != mine {
		t.Fatalf("my change is gone from the editor: %+v", shown)
	}
	// The other writer replaced the record my row was: it is new now.
	if !containsString(shown[0].Classes, "new") {
		t.Errorf("the row is not marked new: %q", shown[0].Classes)
	}
	// Saving again shows what it replaces, then saves on top.
	pg.click(ed + ` button[data-op=save]`)
	diff = eval[[]string](pg, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).map((li) => li.textContent)`, jsString(ed+" .panel.changes .diff li:not(.same)")))
	if !reflect.DeepEqual(diff, []string{"- " + theirs, "+ " + mine}) {
		t.Errorf("the second save shows %q", diff)
	}
	if msg := pg.confirmSave(ed); !strings.HasPrefix(msg, "Saved front /static") {
		t.Fatalf("message %q", msg)
	}
	stored, g := pg.fetch("front", "/static")
	if got := summary(stored); !reflect.DeepEqual(got, []string{"0.0 " + mine}) || g != other+1 {
		t.Errorf("after saving again: %q at generation %d", got, g)
	}

	// A change elsewhere in the table does not refuse the save: this
	// list is as it was loaded, so the page saves on the new version.
	ed = pg.openList("front", "/appl1")
	appl1, _ := pg.fetch("front", "/appl1")
	pg.typeText(row(ed, appl1[0].ID)+" .note", "the first application")
	elsewhere := pg.txn(`{"ops":[{"op":"insert","key":"back","uri":"/appl3","block":0,"order":0,"action":"Done"}]}`)
	pg.click(ed + ` button[data-op=save]`)
	if msg, want := pg.confirmSave(ed), fmt.Sprintf("Saved front /appl1: 1 changes, generation %d.", elsewhere+1); msg != want {
		t.Fatalf("message %q, want %q", msg, want)
	}
	if pg.visible(ed + " .panel") {
		t.Errorf("panel %q", pg.text(ed+" .panel"))
	}
	if got, g := pg.fetch("front", "/appl1"); len(got) != 1 || got[0].Note == nil || *got[0].Note != "the first application" || g != elsewhere+1 {
		t.Errorf("after the save: %q at generation %d", summary(got), g)
	}
}

func TestWrongTokenIsRefusedAndTheEditsAreKept(t *testing.T) {
	pg, ed, rows, gen := editing(t, "", "front", "/static")
	mine := `File: '/srv/'.$MATCHED_PATH_INFO`
	pg.typeText(row(ed, rows[0].ID)+" .action", mine)
	// Without a token the page asks for one.
	pg.click(ed + ` button[data-op=save]`)
	if msg := pg.confirmSave(ed); !strings.Contains(msg, "Enter the AdminToken") {
		t.Errorf("message without token %q", msg)
	}
	pg.setToken("wrong")
	pg.click(ed + ` button[data-op=save]`)
	if msg := pg.confirmSave(ed); !strings.Contains(msg, "the token was refused") {
		t.Errorf("message with a wrong token %q", msg)
	}
	if !pg.visible("#token-form") || pg.visible("#token-state") {
		t.Error("the page does not ask for the token again")
	}
	if stored, g := pg.fetch("front", "/static"); g != gen || stored[0].Action == mine {
		t.Fatalf("a wrong token wrote: generation %d", g)
	}
	if shown := pg.rows(ed); shown[0].Action != mine {
		t.Fatalf("the edit is gone: %+v", shown)
	}
	// The token is kept for the tab's session only, never in a cookie.
	if c := eval[string](pg, `document.cookie`); c != "" {
		t.Errorf("cookies: %q", c)
	}
	pg.setToken(token)
	if s := eval[string](pg, `sessionStorage.getItem('transdb-admin-token')`); s != token {
		t.Errorf("sessionStorage has %q", s)
	}
	pg.click(ed + ` button[data-op=save]`)
	if msg := pg.confirmSave(ed); !strings.HasPrefix(msg, "Saved") {
		t.Fatalf("message %q", msg)
	}
	if stored, g := pg.fetch("front", "/static"); g != gen+1 || stored[0].Action != mine {
		t.Errorf("after the right token: %q at generation %d", summary(stored), g)
	}
}

func TestReadOnlyProviderShowsAReadOnlyPage(t *testing.T) {
	for _, tt := range []struct {
		name string
		o    pageOptions
		mode string
	}{
		{"read-only provider", pageOptions{readOnly: true}, "read-only table"},
		{"no AdminToken", pageOptions{noToken: true}, "read-only: writes are disabled (no AdminToken configured)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pg := openPage(t, tt.o)
			_, gen := pg.fetch("front", ":PRE:")
			if got := pg.text("#mode"); got != tt.mode {
				t.Errorf("mode %q, want %q", got, tt.mode)
			}
			ed := pg.openList("front", ":PRE:")
			for _, sel := range []string{"#token-form", ed + " button[data-op=save]", ed + " .row-tools", ".new-list"} {
				if pg.visible(sel) {
					t.Errorf("%s is shown on a read-only page", sel)
				}
			}
			if n := pg.count(ed + " textarea:read-write"); n != 0 {
				t.Errorf("%d text areas can be edited", n)
			}
			// The keyboard changes nothing either.
			pg.do(chromedp.Focus(chromedp.CSS(ed + " .action")))
			pg.key(".", chromedp.ModifierCtrl)
			pg.key("s", chromedp.ModifierCtrl)
			if n := pg.count(ed + " .row.new"); n != 0 {
				t.Errorf("%d new rows on a read-only page", n)
			}
			// Browsing and trying requests work.
			pg.click(`#try-form button[type=submit]`)
			pg.waitFor(`document.querySelector('#decision .outcome')`, "the decision")
			if _, g := pg.fetch("front", ":PRE:"); g != gen {
				t.Errorf("generation %d, want %d", g, gen)
			}
		})
	}
}

func TestTablesOfSeveralProvidersAreEditedApart(t *testing.T) {
	pg := openPage(t, pageOptions{other: []translation.Record{
		{Key: "site", URI: "/", Action: "Proxy: 'http://site'.$URI"},
	}})
	pg.setToken(token)
	if !pg.visible("#provider") {
		t.Fatal("no choice of table with two providers")
	}
	pg.do(chromedp.SetValue(chromedp.CSS("#provider"), "1"),
		evalVoid(`document.querySelector('#provider').dispatchEvent(new Event('change'))`))
	pg.waitFor(`document.querySelectorAll('.lists li').length === 1`, "the other table")
	ed := pg.openList("site", "/")
	// A new action above, and a new block below it, by the keyboard.
	pg.do(chromedp.Focus(chromedp.CSS(ed + " .action")))
	pg.key(",", chromedp.ModifierCtrl)
	pg.key("Do: $CTX{site}=1")
	pg.key(">", chromedp.ModifierCtrl, chromedp.ModifierShift)
	pg.key("Done")
	pg.click(ed + ` button[data-op=save]`)
	if msg := pg.confirmSave(ed); !strings.HasPrefix(msg, "Saved site /") {
		t.Fatalf("message %q", msg)
	}
	var other struct{ Blocks []storedRow }
	pg.getJSON("/v1/fetch?basekey=other&key=site&uri=/", &other)
	// The action above joins the block; the block below follows it.
	want := []string{"0.0 Do: $CTX{site}=1", "0.1 Proxy: 'http://site'.$URI", "1.0 Done"}
	if got := summary(other.Blocks); !reflect.DeepEqual(got, want) {
		t.Errorf("the other table has %q, want %q", got, want)
	}
	if rows := mustFetch(pg, "site", "/"); len(rows) != 0 {
		t.Errorf("the first table got %q", summary(rows))
	}
	// Trying a request uses the chosen table too.
	pg.tryRequest(map[string]string{"uri": "/x", "key": "site"})
	if got := pg.text("#decision .outcome"); got != "proxy to http://site/x" {
		t.Errorf("outcome %q", got)
	}
}

// A change inside a list too long to compare line by line shows as the
// lines it changed, not as the whole list deleted and added again.
func TestChangesOfALongListShowTheLinesChanged(t *testing.T) {
	const n = 1500
	recs := make([]translation.Record, n)
	for i := range recs {
		recs[i] = translation.Record{Key: "big", URI: "/big", Order: uint32(i), Action: fmt.Sprintf("Do: $CTX{n}=%d", i)}
	}
	pg := openPage(t, pageOptions{extra: recs})
	pg.setToken(token)
	ed := pg.openList("big", "/big")
	rows, _ := pg.fetch("big", "/big")
	if len(rows) != n {
		t.Fatalf("%d rows stored, want %d", len(rows), n)
	}
	pg.typeText(row(ed, idOf(t, rows, "Do: $CTX{n}=700"))+" .action", "Do: $CTX{n}='changed'")
	pg.key("s", chromedp.ModifierCtrl)
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s)`, jsString(ed+" .panel.changes")), "the changes")
	diff := eval[[]string](pg, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).map((li) => li.textContent)`, jsString(ed+" .diff li:not(.same)")))
	if want := []string{"- Do: $CTX{n}=700", "+ Do: $CTX{n}='changed'"}; !reflect.DeepEqual(diff, want) {
		t.Errorf("the changes show %d lines, %q ...; want %q", len(diff), diff[:min(len(diff), 4)], want)
	}
}
