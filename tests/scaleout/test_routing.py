"""nginx routes every request of one conversation to one Rasa server, whatever the channel.

Real nginx (Debian's package with njs) with the configuration that launcher/nginx.py
renders for the cluster and the deployment, in front of two recording HTTP servers
standing in for Rasa servers (this tests nginx and deploy/nginx/sender.js, not Rasa;
tests/scaleout/test_cluster.py runs the same routing in front of real Rasa servers).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from launcher.nginx import NginxLayout
from launcher.stack import free_port
from tests.backend.recorder import RecordingServer
from tests.scaleout.conftest import running_nginx

SENDERS = [str(100000 + 7919 * n) for n in range(24)]  # numeric: also valid Telegram chat ids


def rest(sender: str) -> tuple[str, dict[str, Any]]:
    return "/webhooks/rest/webhook", {"sender": sender, "message": "hola"}


def telegram_message(sender: str) -> tuple[str, dict[str, Any]]:
    chat = {"id": int(sender), "type": "private"}
    return "/webhooks/telegram/webhook", {"update_id": 1, "message": {"message_id": 5, "chat": chat, "text": "hola"}}


def telegram_button(sender: str) -> tuple[str, dict[str, Any]]:
    query = {"id": "q1", "from": {"id": int(sender)}, "data": "/affirm"}  # inline message: no "message"
    return "/webhooks/telegram/webhook", {"update_id": 2, "callback_query": query}


def whatsapp(sender: str) -> tuple[str, dict[str, Any]]:
    message = {"from": sender, "id": "wamid.1", "type": "text", "text": {"body": "hola"}}
    value = {"messaging_product": "whatsapp", "messages": [message]}
    return "/webhooks/whatsapp/webhook", {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"value": value}]}],
    }


ALL_CHANNELS = [rest, telegram_message, telegram_button, whatsapp]


def answered_by(response: Any) -> str:
    """The server that answered (nginx lists every server it tried: the last one answered)."""
    return str(response.headers["X-Ventanilla-Upstream"]).split(",")[-1].strip()


def post(url: str, body: dict[str, Any]) -> str:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return answered_by(response)


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return answered_by(response)


@pytest.fixture(scope="module")
def balancer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NginxLayout, list[RecordingServer]]]:
    servers = [RecordingServer().start(), RecordingServer().start()]
    public, internal = free_port(), free_port()
    layout = NginxLayout(
        public_listen=f"127.0.0.1:{public}",
        rasa_listen=f"127.0.0.1:{internal}",
        rasa=[f"127.0.0.1:{s.port}" for s in servers],
        prefix=str(tmp_path_factory.mktemp("nginx")),
        error_log="stderr",
        worker_processes="1",
        expose_upstream=True,
    )
    with running_nginx(layout, f"http://127.0.0.1:{public}/nginx-health"):
        yield layout, servers
    for server in servers:
        server.stop()


def public_url(layout: NginxLayout) -> str:
    return f"http://{layout.public_listen}"


def test_every_channel_and_the_api_send_one_conversation_to_one_server(
    balancer: tuple[NginxLayout, list[RecordingServer]],
) -> None:
    layout, _servers = balancer
    chosen: dict[str, str] = {}
    for sender in SENDERS:
        upstreams = {post(public_url(layout) + path, body) for path, body in (f(sender) for f in ALL_CHANNELS)}
        # Rasa's HTTP API on the internal listener (the backend's notifications), by path.
        upstreams.add(get(f"http://{layout.rasa_listen}/conversations/{sender}/tracker"))
        assert len(upstreams) == 1, (sender, upstreams)
        chosen[sender] = upstreams.pop()
    # Both servers get conversations (consistent hashing spreads them).
    counts = {u: list(chosen.values()).count(u) for u in layout.rasa}
    assert all(n >= 3 for n in counts.values()), counts


def test_a_request_without_a_sender_is_answered_by_some_server(
    balancer: tuple[NginxLayout, list[RecordingServer]],
) -> None:
    layout, _servers = balancer
    assert post(public_url(layout) + "/webhooks/whatsapp/webhook", {"object": "whatsapp_business_account"})
    request = urllib.request.Request(public_url(layout) + "/webhooks/rest/webhook", b'"not an object"')
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_only_channels_are_public(balancer: tuple[NginxLayout, list[RecordingServer]]) -> None:
    layout, servers = balancer
    before = sum(len(s.gets) for s in servers)
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(public_url(layout) + f"/conversations/{SENDERS[0]}/tracker", timeout=10)
    assert denied.value.code == 404
    assert sum(len(s.gets) for s in servers) == before  # never reached a Rasa server


def test_when_a_server_is_down_its_conversations_move_and_the_others_stay(
    balancer: tuple[NginxLayout, list[RecordingServer]],
) -> None:
    layout, servers = balancer
    before = {s: post(public_url(layout) + rest(s)[0], rest(s)[1]) for s in SENDERS}
    down = servers[0]
    down.stop()
    try:
        after = {s: post(public_url(layout) + rest(s)[0], rest(s)[1]) for s in SENDERS}
    finally:
        down.start()
    alive = f"127.0.0.1:{servers[1].port}"
    assert set(after.values()) == {alive}
    assert all(after[s] == alive for s in SENDERS if before[s] == alive)  # nobody else moved
