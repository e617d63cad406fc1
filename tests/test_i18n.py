from django.test import Client


def test_chinese_is_the_default_language(db):
    body = Client().get("/accounts/login/").content.decode()
    assert "登录" in body and 'lang="zh-hans"' in body


def test_english_is_available(db):
    client = Client()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    body = client.get("/accounts/login/").content.decode()
    assert "Log in" in body and 'lang="en"' in body
