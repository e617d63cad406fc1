from django.test import Client


def test_chinese_is_the_default_language(db):
    body = Client().get("/accounts/login/").content.decode()
    assert "登录" in body and 'lang="zh-hans"' in body


def test_english_is_available(db):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    body = client.get("/accounts/login/").content.decode()
    assert "Log in" in body and 'lang="en"' in body


def test_an_english_browser_still_gets_chinese_until_the_user_switches(db):
    body = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/accounts/login/").content.decode()
    assert 'lang="zh-hans"' in body
