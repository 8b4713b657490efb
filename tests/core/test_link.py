# The device link's PUBLISH of a message in pieces (device/link.py): the
# same bytes as umqtt.simple's publish at QoS 0 of the whole message.
from device import link


class _Sock:
    def __init__(self):
        self.out = bytearray()

    def write(self, data, n=-1):
        if isinstance(data, str):
            data = data.encode()
        self.out += data if n < 0 else data[:n]


def _umqtt_qos0(topic, msg, retain):
    # umqtt.simple.MQTTClient.publish(topic, msg, retain, 0), written out
    pkt = bytearray([0x30 | retain])
    sz = 2 + len(topic) + len(msg)
    while sz > 0x7F:
        pkt.append((sz & 0x7F) | 0x80)
        sz >>= 7
    pkt.append(sz)
    return bytes(pkt) + bytes([len(topic) >> 8, len(topic) & 0xFF]) + topic.encode() + msg.encode()


def test_pieces_make_the_same_packet_as_one_publish():
    for parts, retain in ((["{}"], True), (["{\"a\":1", ",\"b\":[", "x" * 200, "]}"], True),
                          (["y" * 20000], False), ([], False)):
        sock = _Sock()
        link._publish_parts(sock, "twcm/test/state", parts, retain)
        assert bytes(sock.out) == _umqtt_qos0("twcm/test/state", "".join(parts), retain)


class MQTTException(Exception):  # umqtt.simple's, by name
    pass


class _Client:
    """Enough of umqtt.simple's MQTTClient for Link; connect() raises `fail`."""

    def __init__(self, fail):
        self.fail = fail
        self.sock = _Sock()

    def set_callback(self, f):
        pass

    def set_last_will(self, topic, msg, retain, qos):
        pass

    def connect(self):
        if self.fail is not None:
            raise self.fail

    def subscribe(self, topic, qos):
        pass

    def publish(self, topic, msg, retain, qos):
        pass

    def check_msg(self):
        raise OSError(-1)  # the broker went away


def test_connects_and_failures_go_into_the_health():
    from twc import health
    from twc.contract import Contract
    h = health.Health()
    broker = {"host": "b", "port": 1883, "user": None, "password": None, "keepalive_s": 30,
              "tls": False}
    connected = []
    lk = link.Link(broker, Contract("home", None), "id", None, lambda: connected.append(1), h)
    fails = [OSError(111), MQTTException(4), None]
    lk._make_client = lambda: _Client(fails.pop(0))
    lk.step(0)
    assert h.mqtt_error.startswith("OSError: ") and "111" in h.mqtt_error
    assert h.mqtt_connects == 0 and not lk.connected()
    lk.step(1000)  # after the back-off of 1 s
    assert h.mqtt_error == "the broker refused: bad user name or password"
    lk.step(3000)
    assert lk.connected() and h.mqtt_connects == 1 and connected == [1]
    assert h.mqtt_error == "the broker refused: bad user name or password"  # kept
    lk.step(3010)  # check_msg: end of the stream
    assert not lk.connected() and h.mqtt_error == "the broker closed the connection"
