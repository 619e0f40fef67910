"""Pages, problem documents and messages in the user's language, on both adapters: the
locale of the request (``Accept-Language``), the subject's stored preference, the app's
own choice (the demo bank's language switch), and the default."""

from __future__ import annotations

import re

import pytest

from tests.support.flows import held

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


@pytest.fixture
def bank(make_bank):
    """The bank with its login codes sent once, so their five minutes show (its own
    workflow adds the two before a call: tests/adapters/test_workflows_web.py)."""
    return make_bank(STEPUP_WORKFLOWS_BY_PURPOSE="{}")


def visit(browser, url, headers):
    """GET ``url`` and its redirect, both with ``headers`` (as a browser sends them)."""
    answer = browser.get(url, headers=headers)
    return browser.get(answer.location, headers=headers) if answer.status_code == 303 else answer


def choose_sms(browser, page):
    """Pick the first method offered (alice's phone), whatever language the page speaks."""
    first = browser.form(page, "/stepup/").radios["binding"][0][0]
    return browser.submit(page, "/stepup/", binding=first).location


def test_a_chinese_browser_gets_the_choose_and_code_pages_in_simplified_chinese(bank):
    browser = held(bank)
    choose = visit(browser, "/", ZH)
    assert choose.status_code == 200 and '<html lang="zh-Hans">' in choose.text
    assert "验证您的身份" in choose.text and "请选择验证方式。" in choose.text and "继续" in choose.text
    assert choose.headers["Content-Language"] == "zh-Hans"

    assert "短信：+44 •••• ••0001" in browser.offered(choose)
    code_url = choose_sms(browser, choose)
    page = browser.get(code_url, headers=ZH)
    assert '<html lang="zh-Hans">' in page.text and "输入验证码" in page.text
    assert "还剩 3 次机会" in page.text and "5 分 0 秒</span>后过期" in page.text
    assert "重新发送验证码（30 秒后）" in page.text
    form = browser.form(page, "/stepup/code/")
    wrong = browser.post(form.action, data={**form.fields, "code": "not-a-code"}, headers=ZH)
    assert wrong.status_code == 400 and "验证码不正确。还剩 2 次机会。" in wrong.text


def test_a_subject_who_chose_spanish_gets_the_sms_in_spanish_whatever_the_browser_says(bank):
    bank.call("set_locale", "alice", "es-ES")
    browser = held(bank)
    choose_sms(browser, visit(browser, "/", ZH))

    body = bank.sms.last.body
    assert body.startswith(bank.code("sms") + " es tu clave de acceso a Demo Bank. Vence en 5 min.")
    page = browser.get("/", headers={"Accept-Language": "de"})  # still held: to the choose page
    assert page.status_code == 303


def test_a_json_401_speaks_the_language_of_the_request(bank):
    browser = held(bank)
    answer = browser.get("/api/balance", headers={"Accept": "application/json", "Accept-Language": "de-DE"})
    assert answer.status_code == 401
    assert answer.json()["title"] == "Für die Anmeldung ist ein zweiter Faktor nötig."
    assert answer.headers["Content-Language"] == "de"
    assert "A second factor is needed to sign in." in answer.headers["WWW-Authenticate"]  # headers stay ASCII


def test_the_stored_preference_beats_the_browser_and_the_app_beats_both(bank):
    bank.call("set_locale", "alice", "fr")
    browser = held(bank)
    assert "Vérifiez votre identité" in visit(browser, "/", ZH).text

    browser.get("/?lang=ja")  # the bank's own language switch, its locale_selector
    page = visit(browser, "/", ZH)
    assert '<html lang="ja">' in page.text and "ご本人確認" in page.text


def test_without_any_hint_the_default_locale_speaks(make_bank):
    bank = make_bank(STEPUP_DEFAULT_LOCALE="pt_BR")
    browser = held(bank)
    page = visit(browser, "/", {"Accept-Language": "ko, xx;q=0.5"})
    assert '<html lang="pt-BR">' in page.text and "Confirme que é você" in page.text


def test_a_wrong_tag_in_accept_language_is_read_past(bank):
    browser = held(bank)
    page = visit(browser, "/", {"Accept-Language": "!!;q=x, de;q=0.8, *;q=0.9"})
    assert '<html lang="de">' in page.text


def test_numbers_on_the_code_page_follow_the_locale(bank):
    browser = held(bank)
    code_url = browser.choose(browser.follow(browser.get("/")), "sms").location
    page = browser.get(code_url, headers={"Accept-Language": "de"})
    assert "Noch 3 Versuche" in page.text and "läuft ab in" in page.text and "5 Min. 0 s" in page.text
    pattern = re.search(r'data-pattern="([^"]+)"', page.text).group(1)
    assert pattern == "{minutes} Min. {seconds} s"  # the countdown keeps the locale's words
