"""Properties of the decoder over generated replies.

Replies are written by a serializer that injects the firmware defects the decoder repairs
(``}{``, bare nan, ``\\'``, raw control characters, stray commas, a stray trailing quote);
decoding must give back exactly the value that was serialized.
"""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.errors import ProtocolError
from collectors.transport.decode import decode

SOURCE = "10.0.3.9:4028"

# Strings rich in what the repairs look for, so a repair that is not token-aware shows.
tricky_text = st.one_of(
    st.text(max_size=20),
    st.lists(st.sampled_from(["}{", "nan", "-inf", "'", "\\", "\\'", ",}", ",]", "[,", '"',
                              "\n", "\t", "\x00", "x", "é", " "]), max_size=8).map("".join),
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False), tricky_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(tricky_text, inner, max_size=5)),
    max_leaves=25,
)
containers = st.one_of(st.lists(json_values, max_size=5),
                       st.dictionaries(tricky_text, json_values, max_size=5))


def defective(value, data) -> str:
    """``value`` as JSON text carrying the defects the decoder repairs, chosen by ``data``."""
    flip = lambda: data.draw(st.booleans())  # noqa: E731 - a short local helper reads best here
    if value is None:
        return data.draw(st.sampled_from(["null", "nan", "-nan", "inf", "-inf"]))
    if isinstance(value, str):
        out = []
        for char in value:
            if char == "'" and flip():
                out.append("\\'")  # Whatsminer's invalid escape
            elif char < " " and flip():
                out.append(char)  # a raw control character
            else:
                out.append(json.dumps(char, ensure_ascii=False)[1:-1])
        return '"' + "".join(out) + '"'
    if isinstance(value, (list, dict)):
        items = ([defective(v, data) for v in value] if isinstance(value, list) else
                 [defective(k, data) + ":" + defective(v, data) for k, v in value.items()])
        opener, closer = ("[", "]") if isinstance(value, list) else ("{", "}")
        text = opener + ("," if items and flip() else "")  # bmminer's leading comma
        for index, item in enumerate(items):
            if index:
                # bmminer's "}{": objects in an array with no comma between them
                gap = "" if (isinstance(value, list) and isinstance(value[index - 1], dict)
                             and isinstance(value[index], dict) and flip()) else ","
                text += gap
            text += item
        text += ("," if items and flip() else "") + closer  # btminer's trailing comma
        return text
    return json.dumps(value)


@settings(max_examples=120, deadline=None)
@given(value=containers, data=st.data(), stray_quote=st.booleans())
def test_defective_replies_round_trip(value, data, stray_quote):
    raw = (defective(value, data) + ('"' if stray_quote else "")).encode() + b"\x00"
    assert decode(raw, SOURCE) == value


@settings(max_examples=120, deadline=None)
@given(value=json_values)
def test_valid_replies_decode_like_json_loads(value):
    raw = json.dumps(value, ensure_ascii=False).encode()
    assert decode(raw, SOURCE) == json.loads(raw)


@settings(max_examples=100, deadline=None)
@given(value=containers.filter(bool), data=st.data())
def test_cut_off_replies_are_reported_truncated(value, data):
    raw = json.dumps(value, ensure_ascii=False).encode()
    cut = data.draw(st.integers(1, len(raw) - 1))
    try:
        decode(raw[:cut], SOURCE)
    except ProtocolError as error:
        assert str(error) == f"{SOURCE} sent a truncated reply"
    else:
        raise AssertionError(f"a cut-off reply decoded: {raw[:cut]!r}")


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(
    st.binary(max_size=300),
    st.text(alphabet='{}[]:,"\\ntrufalsei0123456789.-e \x00\n\'', max_size=200).map(str.encode),
))
def test_any_bytes_give_a_value_or_a_protocol_error(raw):
    try:
        decode(raw, SOURCE)
    except ProtocolError as error:
        assert str(error).startswith(SOURCE)
