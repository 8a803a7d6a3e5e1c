"""Events to Python hooks and to a real loopback HTTP receiver: signatures, order, retries, dead letters."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from imagestudio_nb import webhooks
from imagestudio_nb.batch import generate_batch
from imagestudio_nb.config import Settings
from imagestudio_nb.errors import ConfigError, InvalidArgumentError
from imagestudio_nb.project import Project

SECRET = "receiver-secret-not-a-real-one"


class Receiver:
    """A loopback HTTP server that checks each delivery's signature and can refuse the first attempts."""

    def __init__(self, *, fail_first: int = 0, status: int = 503):
        self.received: list[dict] = []
        self.fail_first, self.status = fail_first, status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                entry = {"path": self.path, "body": body, "event": json.loads(body),
                         "attempt": int(self.headers["X-ImageStudio-Attempt"]),
                         "signed": webhooks.verify_signature(SECRET, body, self.headers[webhooks.TIMESTAMP_HEADER],
                                                             self.headers[webhooks.SIGNATURE_HEADER]),
                         "timestamp": self.headers[webhooks.TIMESTAMP_HEADER],
                         "signature": self.headers[webhooks.SIGNATURE_HEADER]}
                refuse = self.path == "/gone" or len(receiver.received) < receiver.fail_first
                entry["answered"] = 410 if self.path == "/gone" else receiver.status if refuse else 204
                receiver.received.append(entry)
                self.send_response(entry["answered"])
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def fresh_webhooks(tmp_path, monkeypatch):
    monkeypatch.setenv("IMAGESTUDIO_WEBHOOKS", str(tmp_path / "webhooks.toml"))
    webhooks.clear()
    yield
    webhooks.clear()


def test_a_batch_delivers_signed_events_in_order_and_retries_a_failing_receiver(workspace):
    receiver = Receiver(fail_first=2)  # the first two attempts meet a 503
    webhooks.add_webhook(receiver.url + "/hook", secret=SECRET, backoff_base=0.05)
    seen_in_python = []
    webhooks.on("generation.completed", seen_in_python.append)
    project = Project.create("hooked", workspace=workspace)
    settings = Settings(default_model="local", default_size="256x256", workspace=workspace, user="ann")

    report = generate_batch(["a red fox", "a blue hen", "a grey owl"], project=project, settings=settings,
                            progress=False, concurrency=1)

    assert webhooks.flush(30)
    receiver.close()
    delivered = [r for r in receiver.received if r["answered"] == 204]
    assert [r["event"]["type"] for r in delivered] == ["generation.completed"] * 3 + ["batch.finished"]
    assert [r["event"]["data"]["generation"] for r in delivered[:3]] == [item.record["id"] for item in report.items]
    assert delivered[-1]["event"]["data"]["ok"] == 3 and delivered[-1]["event"]["project"] == "hooked"
    assert [r["attempt"] for r in receiver.received[:3]] == [1, 2, 3]  # one event, retried, then delivered
    assert all(r["signed"] for r in receiver.received)
    tampered = delivered[0]["body"].replace(b"a red fox", b"a red cat")
    assert not webhooks.verify_signature(SECRET, tampered, delivered[0]["timestamp"], delivered[0]["signature"])
    assert [e.data["prompt"] for e in seen_in_python] == ["a red fox", "a blue hen", "a grey owl"]
    assert webhooks.dead_letters() == []


def test_a_refused_delivery_goes_to_the_dead_letters_without_its_secret(workspace, tmp_path):
    receiver = Receiver()
    webhooks.add_webhook(receiver.url + "/gone", secret=SECRET, events=["batch.finished"], backoff_base=0.01)
    webhooks.emit("batch.finished", {"ok": 1}, project="p")
    assert webhooks.flush(10)
    receiver.close()
    assert len(receiver.received) == 1  # a 410 is final: no retry
    [dead] = webhooks.dead_letters()
    assert dead["failed"] == "HTTP 410" and dead["event"]["type"] == "batch.finished"
    assert SECRET not in (tmp_path / "webhooks-dead-letter.jsonl").read_text()


def test_an_unreachable_receiver_is_retried_then_dead_lettered():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"  # nobody listens once the probe closes
    webhooks.add_webhook(url, secret=SECRET, max_attempts=3, backoff_base=0.01)
    webhooks.emit("sync.pushed", {"bytes": 10})
    assert webhooks.flush(10)
    [dead] = webhooks.dead_letters()
    assert dead["attempts"] == 3 and "refused" in dead["failed"]


def test_webhooks_filter_by_event_and_project_and_a_failing_hook_breaks_nothing(workspace):
    receiver = Receiver()
    webhooks.add_webhook(receiver.url + "/only-p", secret=SECRET, events=["comment.added"], project="p")
    webhooks.on("*", lambda event: 1 / 0)  # a buggy hook is logged, never raised into the caller
    webhooks.emit("comment.added", {"text": "nice"}, project="p")
    webhooks.emit("comment.added", {"text": "elsewhere"}, project="q")
    webhooks.emit("project.shared", {"to": "bob"}, project="p")
    assert webhooks.flush(10)
    receiver.close()
    assert [r["event"]["data"] for r in receiver.received] == [{"text": "nice"}]


def test_configured_webhooks_read_their_secret_from_the_environment(tmp_path, monkeypatch):
    (tmp_path / "webhooks.toml").write_text('[[webhooks]]\nurl = "http://127.0.0.1:9/x"\nsecret_env = "HOOK_SECRET"\n'
                                            'events = ["batch.finished"]\n')
    with pytest.raises(ConfigError, match="secret_env"):
        webhooks.configured_webhooks()
    webhooks.emit("batch.finished", {"ok": 0})  # a broken file is logged; the caller's work is not failed
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    [hook] = webhooks.configured_webhooks()
    assert hook.secret == SECRET and hook.events == ("batch.finished",) and SECRET not in repr(hook)
    with pytest.raises(InvalidArgumentError, match="generation.completed"):
        webhooks.on("image.made", print)
