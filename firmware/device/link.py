# The device's MQTT link, on umqtt.simple. It runs in the main thread,
# where a connect, a DNS lookup or a slow broker may block for seconds: the
# bus has a thread of its own (device/app.py) and never waits for this.
#
#     link = Link(broker_cfg, contract, client_id, on_command, on_connect, health)
#     link.step(now_ms)                 # often: connects, reads, pings
#     link.publish(topic, text, retain, now_ms)   # False if it is not sent
#
# A lost connection is retried with a doubling back-off (1 s to 60 s);
# subscriptions are renewed on every connect. The broker publishes the
# retained last will `online` = false when the link dies, and the link
# publishes a retained true once connected. Connects and failures go into
# health (twc/health.py: the state's mqtt).
from twc.health import why
from twc.ticks import ticks_add, ticks_diff

BACKOFF_MIN_MS = 1000
BACKOFF_MAX_MS = 60000


class Link:
    def __init__(self, broker, contract, client_id, on_command, on_connect, health):
        self.broker = broker
        self.contract = contract
        self.client_id = client_id
        self.on_command = on_command  # on_command(topic, payload)
        self.on_connect = on_connect  # on_connect(): after every (re)connect
        self.health = health
        self.client = None
        self.backoff = BACKOFF_MIN_MS
        self.next_try = 0
        self.last_ping = 0

    def connected(self):
        return self.client is not None

    def _make_client(self):
        from umqtt.simple import MQTTClient
        b = self.broker
        kw = {}
        if b["tls"]:
            kw["ssl"] = _tls_context(b.get("ca"))
        return MQTTClient(self.client_id, b["host"], b["port"], b["user"],
                          b["password"], b["keepalive_s"], **kw)

    def _connect(self, now):
        c = None
        try:
            c = self._make_client()
            c.set_callback(self.on_command)
            c.set_last_will(self.contract.online_topic, b"false", True, 1)
            c.connect()
            for t in self.contract.subscriptions():
                c.subscribe(t, 1)
            c.publish(self.contract.online_topic, b"true", True, 1)
        except Exception as e:  # OSError, MQTTException, MemoryError...
            self._give_up(now, c, e)
            self.backoff = min(self.backoff * 2, BACKOFF_MAX_MS)
            return False
        self.client = c
        self.backoff = BACKOFF_MIN_MS
        self.last_ping = now
        self.health.mqtt_connects += 1
        self.on_connect()
        return True

    def _drop(self, now, e):
        c = self.client
        self.client = None
        self._give_up(now, c, e)

    def _give_up(self, now, c, e):
        """Close what is left of a connection; try again after the back-off."""
        self.health.mqtt_error = _failure(e)
        if c is not None:
            try:
                c.sock.close()
            except Exception:
                pass
        self.next_try = ticks_add(now, self.backoff)

    def step(self, now):
        """Connect when due; otherwise read what arrived and ping."""
        if self.client is None:
            if ticks_diff(now, self.next_try) >= 0:
                self._connect(now)
            return
        try:
            self.client.check_msg()
            if ticks_diff(now, self.last_ping) >= self.broker["keepalive_s"] * 500:
                self.last_ping = now
                self.client.ping()
        except Exception as e:
            self._drop(now, e)

    def publish(self, topic, text, retain, now):
        """Publish at QoS 0; False if not connected or the link broke.

        text: a str, or a list of str pieces (ASCII) sent one after the
        other as one message, so that it never has to be in RAM whole."""
        c = self.client
        if c is None:
            return False
        try:
            if isinstance(text, list):
                _publish_parts(c.sock, topic, text, retain)
            else:
                c.publish(topic, text, retain, 0)
            return True
        except Exception as e:
            self._drop(now, e)
            return False


def _failure(e):
    """The words for a failed or lost connection (the state's mqtt.last_error)."""
    code = e.args[0] if e.args else None
    if type(e).__name__ == "MQTTException" and code in (4, 5):  # CONNACK's refusals
        return "the broker refused: " + ("bad user name or password" if code == 4
                                         else "not authorized")
    if isinstance(e, OSError) and code == -1:  # umqtt.simple read nothing: EOF
        return "the broker closed the connection"
    return why(e)


def _publish_parts(sock, topic, parts, retain):
    """An MQTT PUBLISH at QoS 0 (as umqtt.simple writes it) whose payload
    is the pieces; str pieces and topic must be ASCII (len = bytes)."""
    sz = 2 + len(topic)
    for p in parts:
        sz += len(p)
    head = bytearray(7)
    head[0] = 0x31 if retain else 0x30
    i = 1
    while sz > 0x7F:
        head[i] = (sz & 0x7F) | 0x80
        sz >>= 7
        i += 1
    head[i] = sz
    head[i + 1] = len(topic) >> 8
    head[i + 2] = len(topic) & 0xFF
    sock.write(head, i + 3)
    sock.write(topic)
    for p in parts:
        sock.write(p)


def _tls_context(ca_path):
    """A TLS context for umqtt.simple (1.4 and later take one as `ssl`).

    With broker.ca (a DER file on the device) the broker's certificate is
    checked against it; without, the link is encrypted but the broker is
    not authenticated, which the console says at every connect.
    """
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_path:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=ca_path)
    else:
        print("twcm: TLS without broker.ca: the broker's certificate is not checked")
        ctx.verify_mode = ssl.CERT_NONE
    return ctx
