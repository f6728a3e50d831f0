"""The mini-program's JSON API under /api/v1, and WeChat Pay's callbacks under /pay/wechat."""

from miniprogram_api.app import create_app
from miniprogram_api.pay_callbacks import create_pay_callbacks_app

__all__ = ["create_app", "create_pay_callbacks_app"]
