from miniprogram_api.routing import Router

router = Router()
