"""The console and the phone view in a real headless Chromium (Debian's, via Playwright)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from core.severity import Severity

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser, errors, console_errors=True, **kwargs):
    """A page whose script errors (and console errors, e.g. a CSP violation) land in ``errors``."""
    page = browser.new_page(**kwargs)
    page.on("pageerror", lambda e: errors.append(str(e)))
    if console_errors:
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    return page


def test_a_red_order_appears_on_the_board_live_and_accept_on_the_phone_updates_it(
    sqlite_harness, live, browser, artifacts
):
    h, errors = sqlite_harness, []
    h.red_order("rg-0001", Severity.ORANGE, "river level 4.7 m, above warning 4.5 m and rising 12 cm/h")
    h.red_order("mt-0001", Severity.YELLOW, "power 0 kW for 20 min in working hours")
    console = _page(browser, errors, viewport={"width": 1600, "height": 900})
    console.goto(f"{live.url}/#token={h.tokens['dispatcher']}")
    expect(console.locator("#conn")).to_have_text("live", timeout=10_000)
    expect(console.locator("tr.order")).to_have_count(2)

    order = h.red_order("wb-0001")  # raised after the page loaded: only the stream can bring it
    row = console.locator(f"tr.order[data-order='{order['id']}']")
    expect(row).to_be_visible(timeout=2_000)
    expect(row).to_contain_text("wb-0001")
    assert console.locator("tr.order").first.get_attribute("data-order") == str(order["id"])  # red first
    expect(console.locator(f"#map circle.order-pin.red[data-order='{order['id']}']")).to_have_count(1)
    console.screenshot(path=str(artifacts / "console-board.png"))

    phone = _page(browser, errors, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"{live.url}/worker#token={h.tokens['worker']}")
    card = phone.locator(f"article.card[data-order='{order['id']}']")
    expect(card).to_contain_text("Wang Jianguo (69)")
    phone.screenshot(path=str(artifacts / "worker-phone.png"))
    card.locator("button[data-action='accept']").tap()
    expect(card).to_have_attribute("data-status", "accepted")
    expect(card.locator("button[data-action='en-route']")).to_be_visible()

    expect(row).to_have_attribute("data-status", "accepted", timeout=2_000)
    expect(row).to_contain_text("w-001")
    row.click()
    detail = console.locator("#detail")
    expect(detail.locator(".timeline")).to_contain_text("accept")
    expect(detail).to_contain_text("Wang Jianguo (69)")
    console.screenshot(path=str(artifacts / "console-detail.png"))
    assert errors == []


def test_the_console_asks_for_a_token_and_rejects_a_bad_one(live, browser, artifacts):
    errors: list[str] = []
    page = _page(browser, errors, console_errors=False, viewport={"width": 1280, "height": 800})
    page.goto(f"{live.url}/")
    form = page.locator("#signin")
    expect(form).to_be_visible()
    page.screenshot(path=str(artifacts / "console-signin.png"))
    page.fill("#signin input[name=token]", "gw_wrong")
    page.click("#signin button[type=submit]")
    expect(form).to_be_visible()
    expect(page.locator("#main")).to_be_hidden()
    assert errors == []


def test_a_department_desk_accepts_its_call_from_the_console(sqlite_harness, live, browser, artifacts):
    h, errors = sqlite_harness, []
    order = h.red_order("wb-0002")  # wearable red: medical-120 is called
    page = _page(browser, errors, viewport={"width": 1400, "height": 850})
    page.goto(f"{live.url}/#token={h.tokens['department']}")
    row = page.locator(f"tr.order[data-order='{order['id']}']")
    row.click()
    detail = page.locator("#detail")
    detail.locator("input[name=note]").fill("ambulance 7 on its way")
    detail.get_by_role("button", name="Accept the call").click()
    expect(detail.locator(".timeline")).to_contain_text("ambulance 7 on its way")
    expect(detail).to_contain_text("medical-120 (accepted)")
    page.screenshot(path=str(artifacts / "console-department.png"))
    assert errors == []
