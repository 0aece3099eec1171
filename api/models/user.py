"""Platform user accounts."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, created_at, updated_at, uuid_pk


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[uuid_pk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(
        String(255), comment="argon2id hash; never serialised"
    )
    is_admin: Mapped[bool] = mapped_column(default=False, comment="platform role `admin`")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]
