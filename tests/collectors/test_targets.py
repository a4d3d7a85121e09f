import pytest

from collectors.targets import MAX_ADDRESSES, Target, TargetError, expand


def test_cidr_gives_the_hosts_without_network_and_broadcast():
    targets = expand(["10.0.3.0/30"])
    assert targets == [Target("10.0.3.1"), Target("10.0.3.2")]


def test_a_single_host_network_is_that_host():
    assert expand(["10.0.3.7/32"]) == [Target("10.0.3.7")]


def test_range_is_inclusive_and_crosses_octets():
    targets = expand(["10.0.3.254-10.0.4.1"])
    assert [t.ip for t in targets] == ["10.0.3.254", "10.0.3.255", "10.0.4.0", "10.0.4.1"]


def test_ip_and_port():
    assert expand(["10.0.3.9:4029"]) == [Target("10.0.3.9", 4029)]


def test_repeats_are_polled_once_in_the_order_given():
    targets = expand(["10.0.3.2", "10.0.3.1-10.0.3.3"])
    assert [t.ip for t in targets] == ["10.0.3.2", "10.0.3.1", "10.0.3.3"]


def test_file_with_comments_and_blank_lines(tmp_path):
    path = tmp_path / "miners.txt"
    path.write_text("# rack A\n10.0.3.1\n\n10.0.3.8/31  # pair\n10.0.3.20:4030\n")
    assert expand([f"@{path}"]) == [Target("10.0.3.1"), Target("10.0.3.8"), Target("10.0.3.9"),
                                    Target("10.0.3.20", 4030)]


def test_bad_line_in_a_file_names_the_file_and_line(tmp_path):
    path = tmp_path / "miners.txt"
    path.write_text("10.0.3.1\nrack-b-miner\n")
    with pytest.raises(TargetError, match=r"miners.txt, line 2: 'rack-b-miner' is not an IPv4"):
        expand([f"@{path}"])


@pytest.mark.parametrize("text, message", [
    ("10.0.3.300", "is not an IPv4 address"),
    ("10.0.3.0/33", "is not a network"),
    ("10.0.3.9-10.0.3.1", "ends before it starts"),
    ("10.0.3.9:70000", "port outside"),
    ("@/nonexistent/miners.txt", "cannot read the target file"),
])
def test_mistakes_get_one_clear_sentence(text, message):
    with pytest.raises(TargetError, match=message):
        expand([text])


def test_refuses_a_network_far_larger_than_any_farm():
    with pytest.raises(TargetError, match="narrow the targets"):
        expand(["10.0.0.0/8"])
    assert MAX_ADDRESSES >= 65536 * 2
