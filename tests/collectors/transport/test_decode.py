"""The tolerant decoder on our own replies, laid out like the real firmwares' defects."""

import json
import time

import pytest

from collectors.errors import ProtocolError
from collectors.transport import decode as decode_module
from collectors.transport.decode import decode

SOURCE = "10.0.3.9:4028"


def test_valid_reply_with_nul_terminator_and_trailing_whitespace():
    assert decode(b'{"STATUS":[{"STATUS":"S"}],"id":1}\r\n\x00\x00', SOURCE) == {
        "STATUS": [{"STATUS": "S"}], "id": 1}


def test_records_printed_back_to_back_are_separated():
    raw = (b'{"STATUS":[{"STATUS":"S","Code":70}],"STATS":[{"CGMiner":"4.9.0","Type":"Antminer L3+"}'
           b'{"STATS":0,"ID":"L30","GHS 5s":"499.01","chain_rate1":"124.50"}],"id":1}\x00')
    stats = decode(raw, SOURCE)["STATS"]
    assert [record.get("ID") for record in stats] == [None, "L30"]
    assert stats[1]["GHS 5s"] == "499.01"


@pytest.mark.parametrize("bare", ["nan", "-nan", "inf", "-inf", "+inf", "NaN", "Infinity", "-nan(ind)",
                                  "NaN(ind)", "-Infinity(x)"])
def test_bare_nan_and_inf_become_none(bare):
    raw = f'{{"SUMMARY":[{{"Elapsed":12,"MHS av":{bare},"MHS 30s":0}}]}}'.encode()
    assert decode(raw, SOURCE)["SUMMARY"][0] == {"Elapsed": 12, "MHS av": None, "MHS 30s": 0}


def test_stray_quote_after_the_reply_is_dropped():
    raw = b'{"summary":[{"SUMMARY":[{"MHS av":nan}],"id":1}],"id":1}"'
    assert decode(raw, SOURCE) == {"summary": [{"SUMMARY": [{"MHS av": None}], "id": 1}], "id": 1}


def test_second_document_after_the_reply_is_not_dropped_silently():
    with pytest.raises(ProtocolError, match="answered but not as a miner"):
        decode(b'{"a":1}{"b":2}', SOURCE)


def test_invalid_escape_keeps_the_character():
    raw = b'{"SUMMARY":[{"Firmware Version":"\\\'20211109.22.REL\\\'","Power":3360}]}'
    assert decode(raw, SOURCE)["SUMMARY"][0]["Firmware Version"] == "'20211109.22.REL'"


def test_raw_line_break_inside_a_string_is_kept():
    raw = b'{"STATS":[{"Type":"Antminer S9\nV2.1.07"}{"STATS":0}]}'
    assert decode(raw, SOURCE)["STATS"][0]["Type"] == "Antminer S9\nV2.1.07"


def test_trailing_and_leading_commas():
    raw = b'{"POOLS":[,{"URL":"stratum+tcp://pool.example:3333","Accepted":7,},],"id":1,}'
    assert decode(raw, SOURCE) == {
        "POOLS": [{"URL": "stratum+tcp://pool.example:3333", "Accepted": 7}], "id": 1}


def test_trailing_comma_where_python_313_stops_at_it():
    # Before 3.13 the parser stops at the bracket after the comma; from 3.13 at the comma.
    assert decode_module.trailing_commas('{"a":[1, ]}', 7) == '{"a":[1 ]}'
    assert decode_module.trailing_commas('{"a":[1, ]}', 9) == '{"a":[1 ]}'


@pytest.mark.parametrize("raw", [b"[1,,]", b"[,,1]", b'{"a":1,,}', b"[1,,2]"])
def test_a_run_of_commas_is_not_a_stray_comma(raw):
    with pytest.raises(ProtocolError, match="answered but not as a miner"):
        decode(raw, SOURCE)


def test_every_defect_in_a_string_is_repaired_at_once():
    # More defects than the repair bound allows one by one: a string is repaired whole.
    message = "\\'\n\x01\\\n" * 400
    raw = f'{{"Msg":"{message}","Code":1}}'.encode()
    assert decode(raw, SOURCE) == {"Msg": "'\n\x01\n" * 400, "Code": 1}


def test_repairs_are_bounded():
    assert decode(b"[" + b"{}" * 100 + b"]", SOURCE) == [{}] * 100
    with pytest.raises(ProtocolError, match="sent a reply with too many defects to repair"):
        decode(b"[" + b"{}" * 3000 + b"]", SOURCE)


def records_back_to_back(count: int, padding: int) -> list[str]:
    """``count`` stats records of about ``padding`` bytes each."""
    return [json.dumps({"STATS": n, "ID": "BC50", "GHS 5s": "13883.81", "chain_acs6": "o" * padding})
            for n in range(count)]


def cpu_seconds(call) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


# One reply may hold the event loop for a fraction of the poll's timeout (3 s by default), never
# all of it: the bound for the worst replies below, which used to take 1.5 to 12 s.
LOOP_BUDGET_S = 1.0


class CountingDecoder(json.JSONDecoder):
    """The decoder's parses, counted in characters: the repairs' work, whatever the machine's load."""

    def __init__(self) -> None:
        super().__init__(parse_constant=lambda _name: None)
        self.parsed = 0

    def raw_decode(self, s, idx=0):
        self.parsed += len(s) - idx
        return super().raw_decode(s, idx)


@pytest.mark.parametrize("raw", [
    # 2,100 records with no comma between them in 940 KB: the repairs used to parse it 2,000 times
    ('{"STATS":[' + "".join(records_back_to_back(2100, 380)) + "]}").encode(),
    # the same defects after 880 KB of valid records, so that every parse reads all of those
    ('{"STATS":[' + ",".join(records_back_to_back(2000, 380)) + "," + '{"a":1}' * 2000 + "]}").encode(),
    # a trailing comma in each of 180,000 lists
    b"[" + b"[1,]," * 180_000 + b"1]",
])
def test_a_reply_with_more_defects_than_the_repairs_may_cost_is_refused_at_once(raw, monkeypatch):
    decoder = CountingDecoder()
    monkeypatch.setattr(decode_module, "_DECODER", decoder)
    with pytest.raises(ProtocolError, match=rf"^{SOURCE} sent a reply with too many defects to repair "):
        decode(raw, SOURCE)
    # The first parse, then the repairs' budget: it used to parse the megabyte again for each defect.
    assert decoder.parsed <= len(raw) + decode_module.REPAIR_BUDGET


def test_a_small_reply_gets_every_repair_it_needs():
    raw = ('{"STATS":[' + "".join(records_back_to_back(300, 10)) + "]}").encode()
    assert [record["STATS"] for record in decode(raw, SOURCE)["STATS"]] == list(range(300))


def test_a_string_of_control_characters_is_repaired_at_c_speed():
    raw = b'{"Msg":"' + b"\x01\n" * 450_000 + b'","Code":1}'
    value: dict = {}
    assert cpu_seconds(lambda: value.update(decode(raw, SOURCE))) < LOOP_BUDGET_S  # one repair took 1.5 s
    assert value == {"Msg": "\x01\n" * 450_000, "Code": 1}


@pytest.mark.parametrize("raw, outcome", [
    (b'{"a":' + b"[" * 450_000 + b"]" * 450_000 + b"}", "sent a reply nested too deeply to read"),
    (b"[" + b"[]" * 450_000, "sent a truncated reply"),
    (b"[1]" + b" ]" * 500_000, None),  # stray closing brackets after a whole value: dropped
])
def test_a_megabyte_of_brackets_is_judged_at_c_speed(raw, outcome):
    def judged():
        if outcome is None:
            decode(raw, SOURCE)
        else:
            with pytest.raises(ProtocolError, match=f"^{SOURCE} {outcome}$"):
                decode(raw, SOURCE)

    assert cpu_seconds(judged) < LOOP_BUDGET_S  # bracket by bracket in Python it took 0.4 to 0.7 s


def test_the_log_names_the_repairs(caplog):
    caplog.set_level("DEBUG", logger=decode_module.__name__)
    decode(b'{"STATS":[{"a":nan}{"b":nan}]}"', SOURCE)
    assert caplog.messages == [
        f"{SOURCE}: reply repaired (bare_nan_inf, comma_between_objects, stray_bytes_after_value)"]


def test_invalid_utf8_is_replaced_not_fatal():
    raw = b'{"Miner":"caf\xe9 rig","Elapsed":5}'
    assert decode(raw, SOURCE) == {"Miner": "caf\ufffd rig", "Elapsed": 5}


def test_string_content_survives_repairs_byte_for_byte():
    # A worker name and password holding every pattern a repair looks for, in a reply
    # that needs repairs elsewhere.
    user = "acct.w}{1,}nan"
    password = "x\\\\'y,]inf}{"  # JSON text: an escaped backslash, then a quote
    raw = ('{"POOLS":[{"User":"%s","Pass":"%s","Diff":nan}{"User":"b"}]}' % (user, password)).encode()
    pools = decode(raw, SOURCE)["POOLS"]
    assert pools[0]["User"] == user
    assert pools[0]["Pass"] == json.loads(f'"{password}"') == "x\\'y,]inf}{"


@pytest.mark.parametrize("raw", [
    b'{"STATUS":[{"STATUS":"S"}],"SUMMARY":[{"Elapsed":1',
    b'{"STATUS":[{"STATUS":"S","Msg":"Summ',
    b'[{"a":1},',
    b'"half a str',
])
def test_truncated_reply_is_an_error_not_a_guess(raw):
    with pytest.raises(ProtocolError, match=f"^{SOURCE} sent a truncated reply$"):
        decode(raw, SOURCE)


@pytest.mark.parametrize("raw", [b"", b"\x00", b"  \r\n\x00"])
def test_empty_reply(raw):
    with pytest.raises(ProtocolError, match="sent an empty reply"):
        decode(raw, SOURCE)


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 400 Bad Request\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b"1 2",
    b'{"a":1 "b":2}',
])
def test_garbage_is_a_protocol_error(raw):
    with pytest.raises(ProtocolError, match="answered but not as a miner"):
        decode(raw, SOURCE)


def test_deep_nesting_is_a_protocol_error_not_a_crash():
    with pytest.raises(ProtocolError):
        decode(b"[" * 200_000 + b"]" * 200_000, SOURCE)
    with pytest.raises(ProtocolError):
        decode(b"[" * 200_000 + b"nan" + b"]" * 200_000, SOURCE)


def test_valid_reply_never_runs_a_repair(monkeypatch):
    monkeypatch.setattr(decode_module, "REPAIRS", {})
    monkeypatch.setattr(decode_module, "_repaired", None)
    assert decode(b'{"x":[1,2,"}{"]}\x00', SOURCE) == {"x": [1, 2, "}{"]}


def five_kb_reply() -> bytes:
    """A valid ``stats``-like reply of about 5 KB."""
    records = []
    while True:
        raw = json.dumps({"STATUS": [{"STATUS": "S", "Code": 70}], "STATS": records, "id": 1})
        if len(raw) >= 5 * 1024:
            return raw.encode()
        records.append({"STATS": len(records), "ID": "BC50", "GHS 5s": "13883.81", "temp2_6": 62,
                        "chain_acs6": " oooooooo oooooooo oooooooo", "freq_avg6": 649.1})
