#!/usr/bin/python3
"""A python-socketio client against sio-test-server (python_client.test.js).

    /usr/bin/python3 python_client.py URL TRANSPORT ROOM [CA_FILE]

For an https:// URL, CA_FILE is the certificate to trust (requests and
websocket-client both verify against it). Connects with the given transport ("websocket" or "polling"), checks echo with
an ack (binary included), auth and a server-to-client ack, joins ROOM, prints
"READY <sid>", then waits for one "room-msg" event (which the node test sends
to ROOM), prints "GOT <json payload>" and exits 0. Any failure prints
"FAIL <reason>" and exits 1. Every wait is bounded.
"""
import json
import os
import sys
import threading

WAIT_S = 10


def fail(reason):
    print("FAIL " + reason, flush=True)
    os._exit(1)


def main():
    if len(sys.argv) not in (4, 5):
        fail("usage: python_client.py URL TRANSPORT ROOM [CA_FILE]")
    url, transport, room = sys.argv[1:4]
    try:
        import requests
        import socketio
    except ImportError as exc:
        fail("python3-socketio is not importable by %s: %s" % (sys.executable, exc))

    session = requests.Session()
    if len(sys.argv) == 5:
        session.verify = sys.argv[4]  # engineio passes it on to websocket-client too
        session.trust_env = False  # else REQUESTS_CA_BUNDLE, if set, wins over verify
    sio = socketio.Client(reconnection=False, http_session=session)
    got = threading.Event()
    payloads = []

    @sio.on("room-msg")
    def on_room_msg(data):
        payloads.append(data)
        got.set()

    @sio.on("question")
    def on_question(text):
        return "py-answer to " + text

    sio.connect(url, transports=[transport], auth={"name": "py"}, wait_timeout=WAIT_S)
    if sio.transport() != transport:
        fail("transport is %s, not %s" % (sio.transport(), transport))

    echoed = sio.call("echo", {"n": 1, "bin": b"\x00\x01\xff"}, timeout=WAIT_S)
    if echoed != {"n": 1, "bin": b"\x00\x01\xff"}:
        fail("echo answered %r" % (echoed,))
    several = sio.call("echo", ("a", 2, b"b"), timeout=WAIT_S)
    if list(several) != ["a", 2, b"b"]:
        fail("echo of three arguments answered %r" % (several,))

    me = sio.call("whoami", timeout=WAIT_S)
    if me.get("data") != {"name": "py"} or me.get("id") != sio.get_sid("/"):
        fail("whoami answered %r (sid %s)" % (me, sio.get_sid("/")))
    if me.get("secure") != url.startswith("https://"):
        fail("handshake.secure is %r for %s" % (me.get("secure"), url))

    asked = sio.call("server-ack", 2000, timeout=WAIT_S)
    if asked != {"ok": True, "error": None, "answer": ["py-answer to what is the answer?"]}:
        fail("server-ack answered %r" % (asked,))

    rooms = sio.call("join", room, timeout=WAIT_S)
    if room not in rooms:
        fail("join answered %r" % (rooms,))

    print("READY " + sio.get_sid("/"), flush=True)
    if not got.wait(WAIT_S):
        fail("no room-msg within %d s" % WAIT_S)
    print("GOT " + json.dumps(payloads[0]), flush=True)
    sio.disconnect()


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001 - any error is a test failure
        fail("%s: %s" % (type(exc).__name__, exc))
    sys.exit(0)
