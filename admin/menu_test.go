package admin_test

import (
	"testing"
	"time"
)

// menuWithScript is a menu of two links and an inline script that, if
// it ran, would rename the page.
const menuWithScript = `<ul>
  <li><a href="/v1/stats">Statistics</a></li>
  <li><a href="/metrics">Metrics</a></li>
</ul>
<script>document.title = 'the menu ran a script';</script>`

func TestMenuOpensFromTheHeaderAndClosesWithEscape(t *testing.T) {
	pg := openPage(t, pageOptions{menu: menuWithScript})
	pg.waitFor(`document.querySelectorAll('#menu a').length === 2`, "the menu's links")
	if !pg.visible("#menu-button") || pg.visible("#menu") {
		t.Fatalf("before a click: button shown %v, menu shown %v; want the button only", pg.visible("#menu-button"), pg.visible("#menu"))
	}
	expanded := func() string {
		return eval[string](pg, `document.querySelector('#menu-button').getAttribute('aria-expanded')`)
	}

	pg.click("#menu-button")
	if !pg.visible(`#menu a[href="/v1/stats"]`) || pg.text(`#menu a[href="/v1/stats"]`) != "Statistics" || expanded() != "true" {
		t.Fatalf("the menu did not open with its link: %q, aria-expanded %s", pg.text("#menu"), expanded())
	}
	// The script was dropped, and did not run.
	if n := pg.count("#menu script"); n != 0 {
		t.Errorf("the menu holds %d script elements", n)
	}
	if title := eval[string](pg, `document.title`); title != "transdb admin" {
		t.Errorf("title %q: the menu's script ran", title)
	}

	pg.key("\x1b") // Escape
	pg.waitFor(`document.querySelector('#menu').hidden`, "Escape to close the menu")
	if expanded() != "false" || eval[string](pg, `document.activeElement.id`) != "menu-button" {
		t.Errorf("after Escape: aria-expanded %s, focus on %q", expanded(), eval[string](pg, `document.activeElement.id`))
	}
	// The button closes it again, and so does a click elsewhere.
	pg.click("#menu-button")
	pg.click("#menu-button")
	if pg.visible("#menu") {
		t.Error("a second click on the button did not close the menu")
	}
	pg.click("#menu-button")
	pg.click("#nothing-open")
	if pg.visible("#menu") {
		t.Error("a click elsewhere did not close the menu")
	}

	// Its links work.
	pg.click("#menu-button")
	pg.click(`#menu a[href="/v1/stats"]`)
	pg.waitFor(`location.pathname === '/v1/stats'`, "the link to be followed")
	time.Sleep(200 * time.Millisecond) // let late errors arrive
	// Console errors and policy violations fail the test at its end.
}

func TestPageWithoutAMenuShowsNoMenuButton(t *testing.T) {
	pg := openPage(t, pageOptions{})
	if pg.visible("#menu-button") || pg.count("#menu *") != 0 {
		t.Errorf("a page without a menu shows a menu button (%v) or a menu (%q)", pg.visible("#menu-button"), pg.text("#menu"))
	}
}
