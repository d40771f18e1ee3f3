"""`shequ keys rotate`: re-encrypt every personal value under a new key, in batches, resumably.

Step 1 puts a new key first in the key file (the old ones still decrypt); step 2 re-encrypts each
registered model's ciphertext columns in primary-key order, committing a batch at a time and recording
the last primary key done in a progress file beside the key file (the terminal shows rows done, rate and
time left); step 3 retires the old keys. An
interrupted run is resumed by running the command again: it continues after the last batch recorded."""

import json
import os

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from shequ.core import crypto
from shequ.core.progress import Progress


def encrypted_columns() -> dict[str, tuple[str, ...]]:
    """Every model's ciphertext columns, as the models declare them (`ciphertext_fields`), by label, in a
    fixed order (the progress file records each label's last key). A model left out here would keep
    tokens that no key decrypts once rotation retires the old key. The progress file, not the token,
    tells which rows are done; re-encrypting a row twice is harmless (every key of the ring decrypts)."""
    return {
        model._meta.label: tuple(model.ciphertext_fields)
        for model in sorted(apps.get_models(), key=lambda model: model._meta.label)
        if getattr(model, "ciphertext_fields", ())
    }


def progress_path():
    return crypto.key_file_path().with_suffix(".rotation.json")


def read_progress() -> dict | None:
    path = progress_path()
    return json.loads(path.read_text()) if path.exists() else None


def write_progress(progress: dict) -> None:
    path = progress_path()
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(progress))
    os.replace(temporary, path)


def rotate(
    batch_size: int = 2000,
    stop_after_batches: int | None = None,
    echo=print,
    shown: Progress | None = None,
) -> bool:
    """Returns True when the rotation finished, False when it stopped early (stop_after_batches, used
    by the tests to simulate an interruption). `shown` shows each model's rows as they are done (a
    district's million residents take minutes)."""
    shown = shown or Progress.silent()
    progress = read_progress()
    if progress is None:
        crypto.add_new_primary_key()
        progress = {"key": crypto.primary_key_id(), "done": {}}
        write_progress(progress)
        echo(f"新密钥 {progress['key']} 已启用；开始重新加密。")
    else:
        echo(f"继续未完成的密钥轮换 {progress['key']}。")
    batches = 0
    for label, columns in encrypted_columns().items():
        model = apps.get_model(label)
        last_pk = progress["done"].get(label, 0)
        left = model._default_manager.filter(pk__gt=last_pk).count()
        with shown.stage(f"重新加密{model._meta.verbose_name}（{label}）", total=left) as stage:
            while True:
                rows = list(
                    model._default_manager.filter(pk__gt=last_pk)
                    .order_by("pk")
                    .values_list("pk", *columns)[:batch_size]
                )
                if not rows:
                    break
                with transaction.atomic():
                    for pk, *tokens in rows:
                        updates = {
                            column: crypto.rotate_token(token)
                            for column, token in zip(columns, tokens, strict=True)
                            if token
                        }
                        if updates:
                            model._default_manager.filter(pk=pk).update(**updates)
                last_pk = rows[-1][0]
                progress["done"][label] = last_pk
                write_progress(progress)
                batches += 1
                stage.update(len(rows))
                if stop_after_batches is not None and batches >= stop_after_batches:
                    echo(f"{label}：已处理至主键 {last_pk}，轮换暂停；再次运行以继续。")
                    return False
    crypto.retire_old_keys()
    progress_path().unlink()
    echo("密钥轮换完成，旧密钥已停用。请备份新的密钥文件。")
    return True


class Command(BaseCommand):
    requires_system_checks = []  # `keys init` is how the key file the checks ask for comes to exist
    help = "个人信息加密密钥管理：init（创建密钥文件）、rotate（轮换密钥并重新加密全部数据，可中断后继续）、status。"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["init", "rotate", "status"])
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, action, batch_size, **options):
        if action == "init":
            path = crypto.key_file_path()
            if path.exists():
                raise CommandError(f"密钥文件已存在：{path}（不会覆盖：覆盖会使已加密的数据无法解密）。")
            crypto.create_key_file(path)
            self.stdout.write(
                self.style.SUCCESS(f"已创建个人信息加密密钥文件：{path}（权限 0600）。请另行备份。")
            )
            return
        if action == "status":
            progress = read_progress()
            keyring = crypto.load_keyring(create=False)
            self.stdout.write(
                f"密钥文件：{crypto.key_file_path()}（{len(keyring['encryption_keys'])} 个加密密钥）"
            )
            self.stdout.write(f"未完成的轮换：{progress}" if progress else "没有未完成的轮换。")
            return
        if batch_size < 1:
            raise CommandError("--batch-size 必须大于 0。")
        rotate(batch_size=batch_size, echo=self.stdout.write, shown=Progress(self.stdout))
