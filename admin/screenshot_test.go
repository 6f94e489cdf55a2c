package admin_test

import (
	"bytes"
	"flag"
	"image/png"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

var writeScreenshot = flag.Bool("screenshot", false, "write the README's screenshot of the admin page, docs/admin.png")

// screenshotFile is the screenshot in the README.
const screenshotFile = "../docs/admin.png"

// TestScreenshot takes the README's screenshot of the page at 1280x800:
// the example table, a request tried with its trace highlighted in the
// lists it went through, and an edit under way. With -screenshot it
// writes docs/admin.png (go test ./admin -run TestScreenshot -screenshot);
// without, it checks that the committed one is a 1280x800 PNG.
func TestScreenshot(t *testing.T) {
	pg := openPage(t, pageOptions{extra: browseExtra})
	pg.setToken(token)
	pg.typeText(`#try-form input[name=uri]`, "/static/img.png")
	pg.typeText(`#try-form input[name=host]`, "www.xyz.de")
	pg.click(`#try-form button[type=submit]`)
	pg.waitFor(`document.querySelectorAll('.row.ran').length > 0`, "the trace")
	ed := editor("front", "/static")
	pg.typeText(ed+" .note", "the German and English docroots")
	pg.do(chromedp.EmulateViewport(1280, 800), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	img, err := chromedp.Run(pg.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if *writeScreenshot {
		if err := os.WriteFile(screenshotFile, img, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := os.WriteFile(t.TempDir()+"/admin.png", img, 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(screenshotFile)
	if err != nil {
		t.Fatalf("the README's screenshot: %v (make it with go test ./admin -run TestScreenshot -screenshot)", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width != 1280 || cfg.Height != 800 {
		t.Errorf("%s: %dx%d %v, want a 1280x800 PNG", screenshotFile, cfg.Width, cfg.Height, err)
	}
}
