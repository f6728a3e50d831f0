from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# WeChat's codes are 32 (wx.login) or 64 (getPhoneNumber) visible ASCII characters.
_CODE = Field(min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$")


class CodeIn(BaseModel):
    """A code from wx.login() or getPhoneNumber: single use, valid five minutes."""

    model_config = ConfigDict(extra="forbid")

    code: str = _CODE


class UserOut(BaseModel):
    id: int
    nickname: str
    avatar_url: str
    phone_masked: str = Field(description="如 138****8000；未绑定为空")
    has_phone: bool


class LoginOut(BaseModel):
    token: str = Field(description="放在 Authorization: Bearer <token>")
    expires_in: int = Field(description="秒")
    is_new: bool = Field(description="首次登录")
    user: UserOut


class UserEnvelope(BaseModel):
    user: UserOut
