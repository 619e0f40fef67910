"""An app served under a prefix (WSGI's ``SCRIPT_NAME``, ASGI's ``root_path``): stepup's
links, redirects, login hold and replays keep the prefix, and the prefix is no app of the
policy."""

from __future__ import annotations


def test_an_app_mounted_under_a_script_root_keeps_its_prefix(lab, lab_records):
    browser = lab.browser(script_root="/shop")
    assert browser.sign_in("dana", "sms").text == "Home of dana"
    lab.clock.advance(61)

    asked = browser.get("/shop/report")
    assert asked.location.startswith("/shop/stepup/?r=")
    back = browser.pass_challenge(browser.follow(asked), "email")
    assert back.location == "/shop/report"
    assert browser.follow(back).text == "The quarterly report"

    asked = browser.open("/shop/items/7", "PUT", json={"name": "lamp"}, headers={"Accept": "text/html"})
    replayed = browser.pass_challenge(browser.follow(asked), "sms")
    assert replayed.json() == {"item": "7", "name": "lamp"}
    assert lab_records.seen.count("PUT /items/7") == 2


def test_the_prefix_is_not_an_app_of_the_policy(lab):
    lab.call("set_method", "sms", False, "app", "vault")
    lab.call("set_method", "email", False, "app", "shop")
    browser = lab.browser(script_root="/shop")
    browser.sign_in("dana", "sms")
    lab.clock.advance(61)

    report = browser.follow(browser.get("/shop/report"))
    vault = browser.follow(browser.get("/shop/vault/keys"))

    assert browser.offered(report) == ["Text message: +44 •••• ••0101", "Email: d•••@example.com"]
    assert browser.offered(vault) == ["Email: d•••@example.com"]


def test_each_prefix_gets_its_own_links_and_many_prefixes_keep_few_layers():
    """The web layer is made once per prefix and scheme, not per request; a proxy that sets
    the prefix from a header cannot make an adapter keep one per value it sends."""
    import stepup
    from stepup.web import WebLayers

    engine = stepup.Engine(secret_key="s" * 40, store_url="memory://", sms_url="memory://")
    layers = WebLayers(engine)
    for root in ["/shop", "", "/shop", *(f"/p{n}" for n in range(100)), "/shop", ""]:
        layer = layers.get(root, False, None, tuple)
        assert layer.core.url("choose") == root + "/stepup/"
        assert layers.get(root, False, None, tuple) is layer
    assert layers.get("/shop", True, None, tuple).core.config.https
    assert len(layers._made) <= 32
    engine.close()
