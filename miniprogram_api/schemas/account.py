from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CodeIn(BaseModel):
    """A code from wx.login() or getPhoneNumber."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=128)


class UserOut(BaseModel):
    id: int
    nickname: str
    avatar_url: str
    phone_masked: str = Field(description="如 138****8000；未绑定为空")
    has_phone: bool


class LoginOut(BaseModel):
    token: str = Field(description="放在 Authorization: Bearer <token>")
    expires_in: int = Field(description="秒")
    is_new: bool
    user: UserOut


class UserEnvelope(BaseModel):
    user: UserOut
