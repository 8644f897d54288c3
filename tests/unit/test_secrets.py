"""The secret store: a key created on first use is one key, however many threads ask at once."""

from __future__ import annotations

import threading
from pathlib import Path

from suite.secrets import SecretStore


def test_first_use_from_many_threads_makes_one_key(tmp_path: Path) -> None:
    path = tmp_path / "keyring.cfg"
    stores = [SecretStore.from_settings("race", "keyrings.alt.file.PlaintextKeyring", str(path)) for _ in range(8)]
    start = threading.Barrier(len(stores))
    keys: list[bytes] = []

    def first_use(store: SecretStore) -> None:
        start.wait()
        keys.append(store.get_or_create_key("signing", 32))

    threads = [threading.Thread(target=first_use, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and len(keys[0]) == 32
    # the file is still a well-formed keyring a new store reads the same key from
    again = SecretStore.from_settings("race", "keyrings.alt.file.PlaintextKeyring", str(path))
    assert again.get_or_create_key("signing", 32) == keys[0]
