from django.urls import reverse

PASSWORD = "shequ-demo-2025"


def test_the_login_page_is_in_chinese_and_logs_in(world, client):
    page = client.get(reverse("login")).content.decode()
    assert "用户名" in page and "密码" in page and 'lang="zh-Hans"' in page
    response = client.post(reverse("login"), {"username": "jiangning", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_wrong_password_says_so_in_chinese(world, client):
    response = client.post(reverse("login"), {"username": "jiangning", "password": "nope"})
    assert "用户名或密码不正确" in response.content.decode()


def test_repeated_failures_lock_the_login(world, client, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "jiangning", "password": "nope"})
    # Even the right password is refused while locked.
    response = client.post(reverse("login"), {"username": "jiangning", "password": PASSWORD})
    assert response.status_code == 429
    assert "暂停" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_token_endpoint_counts_towards_the_same_lockout(world, client, settings):
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("api:token"), {"username": "xinan", "password": "nope"})
    response = client.post(reverse("api:token"), {"username": "xinan", "password": PASSWORD})
    assert response.status_code == 429
    assert "token" not in response.json() and "暂停" in response.json()["detail"]


def test_changing_the_password(world, client):
    client.force_login(world.user("xinan"))
    response = client.post(
        reverse("password-change"),
        {
            "old_password": PASSWORD,
            "new_password1": "新的密码-Shequ-2026",
            "new_password2": "新的密码-Shequ-2026",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("password-change-done")).status_code == 200


def test_logout_is_a_post(world, client):
    client.force_login(world.user("xinan"))
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302
