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
