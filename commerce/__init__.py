"""The commerce core: domain models, services and the adapters to WeChat, WeChat Pay and Redis."""
