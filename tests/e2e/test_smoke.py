def test_rep_reaches_home(new_page, screenshot):
    page = new_page("rep")
    screenshot(page, "home")
    assert page.locator("nav").count() > 0
