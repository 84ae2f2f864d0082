"""Signing the dashboard in, as a person would: choosing a key file in the sign-in view
(its bytes handed to the file chooser, never written anywhere), or opening a login link."""

from __future__ import annotations

from playwright.sync_api import FilePayload, Page, expect

from gridledger.node.keystore import plain_content
from tests.community import key


def key_file(name: str) -> FilePayload:
    """`keys/NAME.key` of a test member (the bytes `gridledger` writes), as Playwright's
    file chooser takes it."""
    return FilePayload(
        name=f"{name}.key", mimeType="application/json", buffer=plain_content(name, key(name))
    )


def sign_in(page: Page, url: str, name: str, route: str = "overview") -> None:
    """Open the dashboard at `route`, sign in with `name`'s key file, wait until live."""
    page.goto(f"{url}/dashboard/#/{route}")
    expect(page.locator("#signin")).to_be_visible()
    page.set_input_files("#key-file", files=[key_file(name)])
    expect(page.locator("#who")).to_contain_text(f"signed in as {name}")
    expect(page.locator("#connection")).to_contain_text("live")
