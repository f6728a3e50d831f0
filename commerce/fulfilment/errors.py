from commerce.errors import ErrorCode, ErrorKind


class FulfilmentError(ErrorCode):
    INVALID_TRANSITION = ("invalid_fulfilment_status", ErrorKind.CONFLICT, "履约当前状态不允许此操作")
    ALREADY_ARRANGED = ("fulfilment_exists", ErrorKind.CONFLICT, "该订单已安排发货或自提")
    POINT_NOT_FOUND = ("pickup_point_not_found", ErrorKind.NOT_FOUND, "自提点不存在或已停用")
    INVALID_CODE = ("pickup_code_invalid", ErrorKind.INVALID, "提货码无效，请核对后重试")
    WRONG_POINT = ("pickup_wrong_point", ErrorKind.CONFLICT, "该提货码不属于本自提点")
    CODE_USED = ("pickup_code_used", ErrorKind.CONFLICT, "该提货码已核销")
