"""The storage layer on local disk and on a real S3-protocol server (moto, 127.0.0.1): names,
listing, ranged reads, atomic writes (a temporary name per attempt), publish with the marker last,
exclusive create, the one lock of every writer, and one clear error per failure an object store can
give (tests/test_cli.py checks the CLI's line)."""
from __future__ import annotations

import json
import os
import re
import socket

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus_tools import storage
from corpus_tools.storage import LockHeld, StorageError
from tests.services import S3Service, dead_pid, free_port, moto_s3_server


@pytest.mark.parametrize("path, resolved", [
    ("s3a://bucket/a/b/", "s3://bucket/a/b"),
    ("S3://bucket/key", "s3://bucket/key"),
    ("gcs://bucket/key", "gs://bucket/key"),
    ("hdfs://namenode:8020/corpus", "hdfs://namenode:8020/corpus"),
    ("file:///data/in", "/data/in"),
])
def test_paths_resolve_to_one_canonical_form(path, resolved):
    assert storage.resolve(path) == resolved


def test_relative_paths_become_absolute_on_the_driver(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert storage.resolve("data/sample") == str(tmp_path / "data" / "sample")
    assert storage.resolve(f"file://{tmp_path}/x") == str(tmp_path / "x")


@pytest.mark.parametrize("path, says", [
    ("ftp://host/corpus", "unsupported URL scheme 'ftp'; use a local path, file://, s3://"),
    ("s3://", "no bucket or host in the URL"),
])
def test_unusable_urls_are_refused_by_name(path, says):
    with pytest.raises(StorageError, match=says):
        storage.resolve(path)


@pytest.fixture(params=["local", "s3"])
def root(request, tmp_path):
    """An empty directory on local disk or a fresh bucket on the session's S3 server."""
    return str(tmp_path) if request.param == "local" else request.getfixturevalue("s3_bucket")


def test_written_files_list_read_and_range_read_alike(root):
    storage.write_atomically(storage.join(root, "a", "one.txt"), "first line\nsecond line\n")
    storage.write_json(storage.join(root, "b.json"), {"n": 1})
    table = pa.table({"id": list(range(1000))})
    with storage.open_output(storage.join(root, "t.parquet")) as f:
        pq.write_table(table, f, row_group_size=100)

    listed = storage.list_files(root)
    assert [storage.relative(p, root) for p, _ in listed] == ["a/one.txt", "b.json", "t.parquet"]
    assert listed[0][1] == len("first line\nsecond line\n")
    assert storage.is_dir(storage.join(root, "a")) and not storage.is_dir(storage.join(root, "nothing"))
    assert storage.read_json(storage.join(root, "b.json")) == {"n": 1}
    with storage.open_stream(storage.join(root, "a", "one.txt")) as f:
        assert [line for line in f] == [b"first line\n", b"second line\n"]
    with storage.open_input(storage.join(root, "a", "one.txt")) as f:
        f.seek(6)
        assert f.read(4) == b"line"
    parquet = storage.parquet_file(storage.join(root, "t.parquet"))
    assert parquet.metadata.num_row_groups == 10
    assert parquet.read_row_group(7)["id"].to_pylist() == list(range(700, 800))
    assert storage.parquet_rows(storage.parquet_parts(root)) == 1000


def test_an_aborted_write_leaves_nothing_and_a_commit_the_whole_file(root):
    path = storage.join(root, "out", "part-0.bin")
    out = storage.AtomicOutput(path)
    out.write(b"half")
    out.abort()
    assert storage.list_files(root) == []
    out = storage.AtomicOutput(path)
    out.write(b"whole")
    out.commit()
    assert storage.list_files(root) == [(path, 5)]
    assert storage.read_bytes(path) == b"whole"


def test_publish_moves_a_tree_with_its_marker_last_and_is_repeatable(root):
    src, dst = storage.join(root, "run.incomplete"), storage.join(root, "run")
    for name in ("kept/part-0.parquet", "kept/part-1.parquet", "stats.json", storage.SUCCESS):
        storage.write_atomically(storage.join(src, name), name)
    storage.publish_tree(src, dst, last=storage.SUCCESS)
    assert storage.is_finished_stage(dst) and not storage.list_files(src)
    assert storage.read_bytes(storage.join(dst, "kept", "part-1.parquet")) == b"kept/part-1.parquet"
    assert storage.stage_inputs([dst]) == [storage.join(dst, "kept")]


def test_an_exclusive_create_succeeds_once(root):
    path = storage.join(root, "out.lock")
    assert storage.create_exclusive(path, "first")
    assert not storage.create_exclusive(path, "second")
    assert storage.read_bytes(path) == b"first"


def test_every_attempt_writes_its_own_temporary_file(tmp_path):
    path = str(tmp_path / "part-0.parquet")
    first, second = storage.temporary_name(path), storage.temporary_name(path)
    assert first != second and storage.parent(first) == storage.parent(path)
    assert storage.basename(first).startswith(".part-0.parquet.")  # hidden: no reader lists it

    a, b = storage.AtomicOutput(path), storage.AtomicOutput(path)
    for chunk in range(3):  # interleaved writes of the same file
        a.write(f"a{chunk}".encode())
        b.write(f"b{chunk}".encode())
    assert len(os.listdir(tmp_path)) == 2, "two writers, two temporary files"
    a.commit()
    assert storage.read_bytes(path) == b"a0a1a2"
    b.commit()
    assert storage.read_bytes(path) == b"b0b1b2", "the last commit wins, whole"
    assert os.listdir(tmp_path) == ["part-0.parquet"]


def test_a_second_lock_is_refused_naming_the_holder(root):
    lock, target = storage.join(root, "out.lock"), storage.join(root, "out")
    with storage.exclusive_lock(lock, "clean", target):
        held = storage.read_json(lock)
        assert (held["run"], held["host"], held["pid"]) == ("clean", socket.gethostname(), os.getpid())
        says = (f"{target} is being written by another run (clean on {socket.gethostname()}, pid {os.getpid()}, "
                f"started {held['started']}); wait for it, or delete {lock} if that run is gone")
        with pytest.raises(LockHeld, match=f"^{re.escape(says)}$"):
            with storage.exclusive_lock(lock, "dedup", target):
                pytest.fail("two holders")
        assert storage.read_json(lock) == held, "the refused run leaves the lock alone"
    assert not storage.exists(lock), "released on exit"


def test_a_lock_is_released_when_its_run_fails(root):
    lock = storage.join(root, "out.lock")
    with pytest.raises(ZeroDivisionError):
        with storage.exclusive_lock(lock, "clean", "out"):
            1 / 0
    assert not storage.exists(lock)
    with storage.exclusive_lock(lock, "clean", "out"):  # free again
        pass


def test_a_lock_left_by_a_killed_process_on_this_host_is_taken_over(root):
    lock = storage.join(root, "out.lock")
    assert storage.create_exclusive(lock, json.dumps({"run": "clean", "host": socket.gethostname(),
                                                      "pid": dead_pid(), "started": "then"}))
    with storage.exclusive_lock(lock, "clean", "out"):
        assert storage.read_json(lock)["pid"] == os.getpid()
    assert not storage.exists(lock)


def test_a_lock_of_another_host_is_never_taken_over(root):
    """No way to ask another host whether its pid lives: the user is told which lock to delete."""
    lock = storage.join(root, "out.lock")
    pid = dead_pid()
    storage.create_exclusive(lock, json.dumps({"run": "pack", "host": "another-host", "pid": pid, "started": "then"}))
    with pytest.raises(LockHeld, match=re.escape(f"(pack on another-host, pid {pid}, started then)")):
        with storage.exclusive_lock(lock, "pack", "out"):
            pass
    assert storage.read_json(lock)["host"] == "another-host"


def test_a_missing_input_and_a_missing_bucket_are_told_apart(s3_bucket):
    with pytest.raises(FileNotFoundError, match=f"input path does not exist: {s3_bucket}/nothing"):
        storage.check_readable(f"{s3_bucket}/nothing")
    with pytest.raises(StorageError, match="s3://no-such-bucket-here/in: the bucket does not exist"):
        storage.check_readable("s3://no-such-bucket-here/in")
    with pytest.raises(StorageError, match="the bucket does not exist"):
        storage.check_writable("s3://no-such-bucket-here/out")
    storage.check_writable(f"{s3_bucket}/out")
    assert storage.list_files(s3_bucket) == [], "the write probe is removed"


def test_an_unreachable_endpoint_fails_in_seconds_naming_it(s3_environment, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    with pytest.raises(StorageError, match=f"s3://bucket: cannot reach the object store at {dead}; check AWS_ENDPOINT_URL"):
        storage.check_readable("s3://bucket/in")


def test_missing_credentials_are_named_before_any_request(s3_environment, monkeypatch, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws/credentials
    with pytest.raises(StorageError, match="no credentials for the object store; set AWS_ACCESS_KEY_ID"):
        storage.exists("s3://bucket/in")


@pytest.fixture(scope="module")
def iam_s3(tmp_path_factory):
    """A second S3 server that checks credentials (moto's IAM): a bucket, and a user with a key but
    no policy. Returns (service, the user's key, secret); unknown keys are refused."""
    with moto_s3_server(str(tmp_path_factory.mktemp("moto-iam")), env={"INITIAL_NO_AUTH_ACTION_COUNT": "6"}) as url:
        service = S3Service(url)
        kw = dict(endpoint_url=url, region_name=service.region, aws_access_key_id=service.access_key,
                  aws_secret_access_key=service.secret_key)
        boto3.client("s3", **kw).create_bucket(Bucket="locked-bucket")
        iam = boto3.client("iam", **kw)
        iam.create_user(UserName="no-rights")
        key = iam.create_access_key(UserName="no-rights")["AccessKey"]
        s3 = boto3.client("s3", **kw)
        for _ in range(10):  # use up the unchecked requests: from here on every request is checked
            try:
                s3.list_buckets()
            except s3.exceptions.ClientError:
                break
        else:
            pytest.fail("moto never started checking credentials")
        yield service, key["AccessKeyId"], key["SecretAccessKey"]


def use(monkeypatch, service: S3Service, key: str, secret: str) -> None:
    for name, value in {**service.env(), "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}.items():
        monkeypatch.setenv(name, value)


def test_refused_credentials_say_so(iam_s3, monkeypatch):
    service, _, _ = iam_s3
    use(monkeypatch, service, "AKIAUNKNOWNUNKNOWN00", "wrong")
    with pytest.raises(StorageError, match="s3://locked-bucket/out/x: the object store refused the credentials"):
        storage.check_writable("s3://locked-bucket/out/x")


def test_a_permission_error_says_so(iam_s3, monkeypatch):
    service, key, secret = iam_s3
    use(monkeypatch, service, key, secret)
    with pytest.raises(StorageError, match="s3://locked-bucket/in: permission denied by the object store"):
        storage.check_readable("s3://locked-bucket/in")
    with pytest.raises(StorageError, match="permission denied by the object store"):
        storage.check_writable("s3://locked-bucket/out/x")
