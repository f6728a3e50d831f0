"""Payouts: a payee withdraws what is owed to them to their WeChat balance (商家转账)."""
