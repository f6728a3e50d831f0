from commerce.errors import ErrorCode, ErrorKind


class FulfilmentError(ErrorCode):
    INVALID_TRANSITION = ("invalid_fulfilment_status", ErrorKind.CONFLICT, "履约当前状态不允许此操作")
    ALREADY_ARRANGED = ("fulfilment_exists", ErrorKind.CONFLICT, "该订单已安排发货或自提")
    POINT_NOT_FOUND = ("pickup_point_not_found", ErrorKind.NOT_FOUND, "自提点不存在或已停用")
    INVALID_CODE = ("pickup_code_invalid", ErrorKind.INVALID, "提货码无效，请核对后重试")
    WRONG_POINT = ("pickup_wrong_point", ErrorKind.CONFLICT, "该提货码不属于本自提点")
    CODE_USED = ("pickup_code_used", ErrorKind.CONFLICT, "该提货码已核销")
    POINT_NOT_SERVING = (
        "pickup_point_not_serving",
        ErrorKind.INVALID,
        "该自提点不能提取所选全部商品，请换一个自提点或分开下单",
    )
    NOT_CHOSEN_POINT = ("pickup_not_chosen_point", ErrorKind.CONFLICT, "请在买家下单时选择的自提点备货")
    NOT_PICKUP = ("pickup_not_chosen", ErrorKind.CONFLICT, "买家未选择到店自提，请选择自提点")
    IS_PICKUP = ("pickup_order_not_shippable", ErrorKind.CONFLICT, "该订单为到店自提，不能快递发货")
    CONTACT_REQUIRED = ("pickup_contact_required", ErrorKind.INVALID, "到店自提请填写提货人姓名和手机号")
    COMMUNITY_POINT = (
        "pickup_point_community_only",
        ErrorKind.INVALID,
        "该自提点为社区团长自提点，仅提取社区团购订单，请换一个自提点",
    )
    LEADER_POINT_MANAGED = (
        "pickup_point_leader_managed",
        ErrorKind.CONFLICT,
        "团长自提点随团长审核开放或关闭，请在「团长」页操作",
    )
    INVALID_POINT = ("pickup_point_invalid", ErrorKind.INVALID, "请填写自提点名称和地址")
