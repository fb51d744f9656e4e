"""One storage layer: local paths and object stores alike, through `pyarrow.fs`.

Every path the project reads or writes goes through here: a local path (relative ones are made
absolute, so a Spark executor in another working directory finds them), `file://...`, `s3://`
(and `s3a://`, as Hadoop spells it; S3-compatible endpoints too), `gs://` and `hdfs://`.

Object stores are configured from the standard environment, never from config files:
`AWS_ENDPOINT_URL` (or `AWS_ENDPOINT_URL_S3`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_SESSION_TOKEN`, `AWS_REGION` (or `AWS_DEFAULT_REGION`); without keys, the AWS default chain
(profile, instance role) applies. Credentials are never logged.

An object store has no atomic rename, but an object appears whole or not at all when its upload
completes: `write_atomically` is one upload there, a temporary file + rename on local disk.

One run per output: `exclusive_lock` is the one lock every writer takes (a stage's `<output>.lock`,
`ziya mix`'s `<blends>.lock`, `ziya train`'s `OUT/train.lock`). The lock file is created exclusively
(O_EXCL on disk, a conditional PUT on S3) holding the run, host, pid and start time; a second run is
refused with `LockHeld` naming them; a lock left by a process that no longer exists on this host (a
run killed with -9) is taken over; the lock is removed when the run ends, by an exception too.
"""
from __future__ import annotations

import functools
import io
import json
import os
import posixpath
import socket
import time
import uuid
from contextlib import contextmanager
from urllib.parse import urlparse

import pyarrow.fs as pafs

# scheme as the user writes it -> the one pyarrow knows
SCHEMES = {"s3": "s3", "s3a": "s3", "s3n": "s3", "gs": "gs", "gcs": "gs", "hdfs": "hdfs"}


class StorageError(ValueError):
    """A path that cannot be used: unsupported scheme, unreachable store, missing bucket or
    credentials, no permission. The message names the path and the fix."""


# ---------------------------------------------------------------- names

def resolve(path: str) -> str:
    """The canonical form of a path: absolute local paths, `scheme://bucket/key` for stores."""
    if "://" not in path:
        return os.path.abspath(path)
    scheme, rest = path.split("://", 1)
    scheme = scheme.lower()
    if scheme == "file":
        return os.path.abspath(urlparse(path).path or "/")
    if scheme not in SCHEMES:
        raise StorageError(f"{path}: unsupported URL scheme {scheme!r}; use a local path, file://, "
                           f"s3:// (S3 and compatible stores), gs:// or hdfs://")
    rest = rest.rstrip("/")
    if not rest:
        raise StorageError(f"{path}: no bucket or host in the URL")
    return f"{SCHEMES[scheme]}://{rest}"


def is_local(path: str) -> bool:
    return "://" not in path


def join(path: str, *parts: str) -> str:
    return os.path.join(path, *parts) if is_local(path) else posixpath.join(path, *parts)


def basename(path: str) -> str:
    return os.path.basename(path) if is_local(path) else posixpath.basename(path)


def parent(path: str) -> str:
    return os.path.dirname(path) if is_local(path) else posixpath.dirname(path)


def relative(path: str, root: str) -> str:
    return os.path.relpath(path, root) if is_local(path) else posixpath.relpath(path, root)


# ---------------------------------------------------------------- file systems

def filesystem(path: str) -> tuple[pafs.FileSystem, str]:
    """(pyarrow file system, path within it) for a resolved path."""
    if is_local(path):
        return _local(), path
    scheme, rest = path.split("://", 1)
    if scheme == "s3":
        settings = _s3_settings()
        if not (settings[2] and settings[3]) and not _other_aws_credentials():
            raise StorageError(f"{path}: no credentials for the object store; set AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or run where an instance role applies)")
        return _s3(*settings), rest
    if scheme == "gs":
        return _gcs(), rest
    host, _, key = rest.partition("/")
    return _hdfs(host), "/" + key


@functools.lru_cache(maxsize=1)
def _local() -> pafs.LocalFileSystem:
    return pafs.LocalFileSystem()


# Every variable this layer reads: a Spark driver forwards the ones set to its executors.
ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
               "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
               "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
               "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED")


def _s3_settings() -> tuple:
    env = os.environ.get
    return (env("AWS_ENDPOINT_URL_S3") or env("AWS_ENDPOINT_URL"), env("AWS_REGION") or env("AWS_DEFAULT_REGION"),
            env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN"))


def _other_aws_credentials() -> bool:
    """Whether the AWS default chain could find credentials without keys in the environment: a
    profile, a web identity or container role, or (unless disabled) the instance metadata service."""
    env = os.environ.get
    if any(env(k) for k in ("AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                            "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_SHARED_CREDENTIALS_FILE")):
        return True
    if os.path.exists(os.path.expanduser("~/.aws/credentials")):
        return True
    return (env("AWS_EC2_METADATA_DISABLED") or "").lower() != "true"


@functools.lru_cache(maxsize=4)  # keyed by the settings: a changed environment gets a new client
def _s3(endpoint, region, key, secret, token) -> pafs.S3FileSystem:
    options = {"endpoint_override": endpoint, "region": region or "us-east-1",
               # fail in seconds, not minutes, when the endpoint is unreachable
               "connect_timeout": 5, "request_timeout": 60,
               "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=3)}
    if key and secret:
        options.update(access_key=key, secret_key=secret, session_token=token)
    return pafs.S3FileSystem(**{k: v for k, v in options.items() if v is not None})


@functools.lru_cache(maxsize=1)
def _gcs():
    return pafs.GcsFileSystem()


@functools.lru_cache(maxsize=4)
def _hdfs(host: str):
    name, _, port = host.partition(":")
    try:
        return pafs.HadoopFileSystem(name, int(port or 8020))
    except OSError as exc:
        raise StorageError(f"hdfs://{host}: cannot connect ({exc}); hdfs:// needs libhdfs and a Hadoop "
                           "client (HADOOP_HOME, CLASSPATH) on every node") from exc


def _call(path: str, fn, *args):
    """Run a file system call, turning a store's error into a StorageError that says the fix."""
    try:
        return fn(*args)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise explain(path, exc) from exc


def explain(path: str, exc: Exception) -> StorageError:
    """One line naming the path, what went wrong and what to do."""
    text = str(exc)
    if "NETWORK_CONNECTION" in text or "curlCode" in text:
        endpoint = _s3_settings()[0] or "the default AWS endpoint"
        bucket = "/".join(path.split("/")[:3])
        return StorageError(f"{bucket}: cannot reach the object store at {endpoint}; check AWS_ENDPOINT_URL "
                            "and that the server is up")
    if "NO_SUCH_BUCKET" in text or "NoSuchBucket" in text:
        return StorageError(f"{path}: the bucket does not exist; create it first (e.g. `aws s3 mb s3://BUCKET`)")
    if "ACCESS_DENIED" in text or "AccessDenied" in text or "HTTP status 403" in text:
        return StorageError(f"{path}: permission denied by the object store; check that the credentials "
                            "(AWS_ACCESS_KEY_ID) are valid and may read and write there")
    if any(s in text for s in ("INVALID_ACCESS_KEY", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                               "credentials", "SIGNATURE_DOES_NOT_MATCH")):
        return StorageError(f"{path}: the object store refused the credentials; set AWS_ACCESS_KEY_ID and "
                            "AWS_SECRET_ACCESS_KEY (or a profile / instance role)")
    if isinstance(exc, PermissionError):
        return StorageError(f"{path}: permission denied")
    return StorageError(f"{path}: {text.splitlines()[0] if text else type(exc).__name__}")


# ---------------------------------------------------------------- queries

def info(path: str) -> pafs.FileInfo:
    fs, p = filesystem(path)
    return _call(path, fs.get_file_info, p)


def exists(path: str) -> bool:
    return info(path).type != pafs.FileType.NotFound


def is_file(path: str) -> bool:
    return info(path).type == pafs.FileType.File


def is_dir(path: str) -> bool:
    if is_local(path):
        return os.path.isdir(path)
    # a "directory" of an object store is a key prefix: it exists when something is under it
    fs, p = filesystem(path)
    if "/" not in p:  # a bucket
        return info(path).type == pafs.FileType.Directory
    try:
        return bool(_call(path, fs.get_file_info, pafs.FileSelector(p, recursive=False)))
    except FileNotFoundError:
        return False


def size(path: str) -> int:
    return info(path).size


def list_files(root: str) -> list[tuple[str, int]]:
    """(path, size) of every file under `root`, recursively, sorted by path. Local directories
    are walked without following links to directories (a symlink loop cannot hang a listing)."""
    if is_local(root):
        found = []
        for dirpath, _, filenames in os.walk(root):
            for name in filenames:
                full = os.path.join(dirpath, name)
                try:
                    found.append((full, os.path.getsize(full)))
                except OSError:  # a dangling link: listed, the reader quarantines or reports it
                    found.append((full, 0))
        return sorted(found)
    fs, p = filesystem(root)
    try:
        infos = _call(root, fs.get_file_info, pafs.FileSelector(p, recursive=True))
    except FileNotFoundError:
        return []
    prefix = root[: len(root) - len(p)]  # "s3://" for stores, "" for local paths
    return sorted((prefix + i.path, i.size) for i in infos if i.type == pafs.FileType.File)


# ---------------------------------------------------------------- reading

def open_input(path: str):
    """A seekable file for reading with ranged reads (`read_at`, `seek`): Parquet row groups and
    byte-range splits read only their part, from disk or object store alike."""
    if is_local(path):
        return open(path, "rb")  # the builtin file: the fastest readline for JSONL
    fs, p = filesystem(path)
    return _call(path, fs.open_input_file, p)


def open_stream(path: str, buffer_bytes: int = 1 << 20):
    """`open_input` with a read buffer: line-by-line reading costs no request per line on a store."""
    f = open_input(path)
    return f if is_local(path) else io.BufferedReader(f, buffer_bytes)


def read_bytes(path: str) -> bytes:
    with open_input(path) as f:
        return f.read()


def read_json(path: str):
    return json.loads(read_bytes(path).decode("utf-8"))


def parquet_file(path: str):
    """A `pyarrow.parquet.ParquetFile` reading its footer and row groups with ranged reads."""
    import pyarrow.parquet as pq

    if is_local(path):
        return pq.ParquetFile(path)
    fs, p = filesystem(path)
    return _call(path, functools.partial(pq.ParquetFile, filesystem=fs), p)


def parquet_schema(path: str):
    return parquet_file(path).schema_arrow


def parquet_rows(paths: list[str]) -> int:
    """Rows of Parquet files, from their footers (no data read)."""
    return sum(parquet_file(path).metadata.num_rows for path in paths)


def parquet_parts(directory: str) -> list[str]:
    """The Parquet part files a stage wrote in `directory` (hidden and `_` files skipped), sorted."""
    return [p for p, _ in list_files(directory)
            if p.endswith(".parquet") and not basename(p).startswith((".", "_"))]


# ---------------------------------------------------------------- writing

def make_dirs(path: str) -> None:
    if is_local(path):
        os.makedirs(path, exist_ok=True)
    # object stores have no directories: a key's prefix exists once an object is under it


def open_output(path: str):
    """A stream to write a new file (its parent created as needed). On an object store the object
    appears whole when the stream closes; on local disk the caller renames a temporary name
    (`temporary_name`) if readers must never see half a file."""
    if is_local(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return open(path, "wb")
    fs, p = filesystem(path)
    return _call(path, functools.partial(fs.open_output_stream, compression=None), p)  # bytes as given: no codec from the name


def temporary_name(path: str) -> str:
    """A hidden sibling name unique to this process and attempt: two writers never share one."""
    return join(parent(path), f".{basename(path)}.{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


class AtomicOutput:
    """A file written so that readers see it whole or not at all, and two writers of the same name
    never mix: on local disk a temporary name unique to this attempt, renamed by `commit()`; on an
    object store the upload itself (the object appears when it completes). `abort()` leaves nothing."""

    def __init__(self, path: str):
        self.path = path
        self._tmp = temporary_name(path) if is_local(path) else None
        self.stream = open_output(self._tmp or path)

    def write(self, data) -> None:
        self.stream.write(data)

    def commit(self) -> None:
        if self._tmp is None:
            self.stream.close()
            return
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        self.stream.close()
        remove(self._tmp or self.path)


def write_atomically(path: str, data: bytes | str) -> None:
    """Write a whole file so a reader sees the old one or the new one, never half of either."""
    out = AtomicOutput(path)
    out.write(data.encode("utf-8") if isinstance(data, str) else data)
    out.commit()


def write_json(path: str, value, indent: int | None = 2) -> None:
    write_atomically(path, json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False))


def move(src: str, dst: str) -> None:
    """Give a finished file its final name (a rename on disk, a server-side copy on a store)."""
    if is_local(src):
        os.replace(src, dst)
        return
    fs, s = filesystem(src)
    _call(src, fs.move, s, filesystem(dst)[1])


def remove(path: str) -> None:
    if is_local(path):
        if os.path.lexists(path):
            os.remove(path)
        return
    fs, p = filesystem(path)
    try:
        _call(path, fs.delete_file, p)
    except FileNotFoundError:
        pass


def remove_tree(path: str) -> None:
    """Delete a directory (a key prefix on a store) and everything under it; absent is fine."""
    if is_local(path):
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        return
    for p, _ in list_files(path):
        remove(p)


def publish_tree(src: str, dst: str, last: str) -> None:
    """Move a finished directory to its final name, its file `last` (the commit marker) arriving
    last. On local disk one rename; on a store every object is copied server-side (no data passes
    through this process), `last` after all the others, then the source deleted: a reader that
    trusts `dst` only once `last` is there never sees it partial. Repeatable if cut short."""
    if is_local(src):
        os.replace(src, dst)
        return
    fs, _ = filesystem(src)
    files = sorted(list_files(src), key=lambda f: relative(f[0], src) == last)
    for path, _ in files:
        target = join(dst, relative(path, src))
        _call(path, fs.copy_file, filesystem(path)[1], filesystem(target)[1])
    remove_tree(src)


def create_exclusive(path: str, data: bytes | str) -> bool:
    """Create `path` only if it does not exist; False when it does (someone else holds it).
    Local disk: O_CREAT | O_EXCL. S3: a conditional PUT (If-None-Match: *), which S3 and the
    S3-compatible stores that implement it answer atomically."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if is_local(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return True
    if path.startswith("s3://"):
        return _s3_create_exclusive(path, data)
    if exists(path):  # gs/hdfs: check-then-create; a race between two starts is not excluded
        return False
    write_atomically(path, data)
    return True


def _s3_create_exclusive(path: str, data: bytes) -> bool:
    import boto3
    from botocore.exceptions import ClientError

    endpoint, region, key, secret, token = _s3_settings()
    client = boto3.client("s3", endpoint_url=endpoint, region_name=region or "us-east-1",
                          aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)
    bucket, _, name = path[len("s3://"):].partition("/")
    try:
        client.put_object(Bucket=bucket, Key=name, Body=data, IfNoneMatch="*")
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
            return False
        raise explain(path, OSError(str(exc))) from exc
    return True


# ---------------------------------------------------------------- one run per output

class LockHeld(RuntimeError):
    """Another run holds the lock; the message names it (run, host, pid, start time)."""


@contextmanager
def exclusive_lock(path: str, run: str, target: str):
    """Hold the lock file `path` while the block runs, for `run` (e.g. a stage's name) writing
    `target` (see the module docstring). Raises LockHeld when another live run holds it."""
    me = json.dumps({"run": run, "host": socket.gethostname(), "pid": os.getpid(),
                     "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    if not create_exclusive(path, me):
        check_unlocked(path, target)  # a live holder: refused, by name
        remove(path)  # a killed run's lock on this host: ours now
        if not create_exclusive(path, me):
            raise LockHeld(f"{target}: another run took {path} just now")
    try:
        yield
    finally:
        remove(path)


def check_unlocked(path: str, target: str) -> None:
    """Raise LockHeld, naming the holder, if a live run holds the lock file `path`."""
    holder = lock_holder(path)
    if holder is not None:
        raise LockHeld(f"{target} is being written by another run ({holder.get('run')} on {holder.get('host')}, "
                       f"pid {holder.get('pid')}, started {holder.get('started')}); wait for it, or delete "
                       f"{path} if that run is gone")


def lock_holder(path: str) -> dict | None:
    """What the lock file `path` records of its holder; None when there is no lock or its holder is
    a process gone from this host. A holder on another host is taken as live (no way to ask)."""
    try:
        holder = read_json(path)
    except FileNotFoundError:
        return None
    except ValueError:  # being written this instant: a live holder
        return {}
    if holder.get("host") == socket.gethostname() and isinstance(holder.get("pid"), int):
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return None
        except PermissionError:  # another user's live process
            pass
    return holder


# ---------------------------------------------------------------- checks before work

def check_readable(path: str) -> None:
    """Fail now, with one clear line, if `path` cannot be read (a missing path raises
    FileNotFoundError; an unreachable store, a missing bucket or credentials a StorageError)."""
    if info(path).type == pafs.FileType.NotFound and not is_dir(path):
        raise FileNotFoundError(f"input path does not exist: {path}")


def check_writable(path: str) -> None:
    """Fail now if an output cannot be written under `path`: a probe object is written and removed."""
    if is_local(path):
        existing = path
        while not os.path.exists(existing):
            existing = os.path.dirname(existing)
        if not os.access(existing, os.W_OK):
            raise StorageError(f"{path}: permission denied (cannot write under {existing})")
        return
    fs, p = filesystem(path)  # errors name the output, not the probe
    p = posixpath.join(posixpath.dirname(p), f".ziya-write-probe-{uuid.uuid4().hex[:8]}")
    _call(path, lambda: fs.open_output_stream(p).close())
    _call(path, fs.delete_file, p)


# ---------------------------------------------------------------- a stage's output, as readers see it

SUCCESS = "_SUCCESS"  # written last by a stage's commit: only then is the output whole


def is_finished_stage(path: str) -> bool:
    return exists(join(path, SUCCESS))


def stage_inputs(paths: list[str]) -> list[str]:
    """Input paths, resolved; a finished stage's output directory stands for its `kept/`."""
    resolved = [resolve(p) for p in paths]
    return [join(p, "kept") if is_finished_stage(p) and is_dir(join(p, "kept")) else p for p in resolved]
