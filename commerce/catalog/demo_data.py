"""The demo catalog: about 320 products in a three-level category tree, generated in code.

Deterministic (a fixed random seed), so tests can name products by spu_code and title. Rows
are in the importer's format, one per SKU.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import product as combinations

SECOND_MERCHANT = "demo2"


@dataclass(frozen=True)
class Leaf:
    path: str  # "数码 > 手机 > 5G手机"
    suffix: str  # appended to titles: "5G手机"
    price: tuple[int, int]  # yuan range of the base price
    axes: dict[str, list[str]]  # spec axes with the values to pick from
    items: list[str]  # "brand|model|subtitle"


LEAVES = [
    Leaf(
        "数码 > 手机 > 5G手机",
        "5G手机",
        (1299, 8999),
        {"颜色": ["黑色", "白色", "蓝色"], "容量": ["128GB", "256GB", "512GB"]},
        [
            "Apple|iPhone 15|苹果 A16 仿生芯片 灵动岛",
            "Apple|iPhone 15 Pro|苹果 钛金属 A17 Pro",
            "华为|Mate 60 Pro|HUAWEI 卫星通话 昆仑玻璃",
            "华为|nova 12|HUAWEI 前置双摄 轻薄",
            "小米|14|Xiaomi 徕卡光学 骁龙8Gen3",
            "小米|Redmi K70|红米 2K直屏 长续航",
            "OPPO|Find X7|哈苏影像 天玑9300",
            "OPPO|Reno 11|人像超级旗舰",
            "vivo|X100|蔡司影像 蓝晶芯片",
            "vivo|iQOO 12|电竞旗舰 120W闪充",
            "荣耀|Magic6|HONOR 青海湖电池",
            "一加|12|OnePlus 2K东方屏",
        ],
    ),
    Leaf(
        "数码 > 手机 > 老人机",
        "老人手机",
        (99, 499),
        {"颜色": ["黑色", "红色"]},
        [
            "诺基亚|105|Nokia 超长待机",
            "守护宝|F199|大字大声 一键呼救",
            "天语|T2|大按键 收音机",
            "纽曼|L8|双卡双待",
            "中兴|L610|ZTE 4G全网通",
        ],
    ),
    Leaf(
        "数码 > 耳机 > 蓝牙耳机",
        "蓝牙耳机",
        (99, 1999),
        {"颜色": ["白色", "黑色"]},
        [
            "Apple|AirPods Pro 2|苹果 主动降噪 无线耳机",
            "Apple|AirPods 3|苹果 空间音频",
            "华为|FreeBuds Pro 3|HUAWEI 降噪 无线",
            "小米|Buds 4 Pro|Xiaomi 无线降噪",
            "索尼|WF-1000XM5|SONY 旗舰降噪 真无线",
            "漫步者|Lolli Pro 3|EDIFIER 入耳式",
            "OPPO|Enco X2|丹拿调音",
            "Beats|Studio Buds+|主动降噪",
            "QCY|T13|百元真无线",
            "荣耀|Earbuds X5|半入耳",
        ],
    ),
    Leaf(
        "数码 > 耳机 > 头戴耳机",
        "头戴式耳机",
        (199, 3999),
        {"颜色": ["黑色", "银色"]},
        [
            "索尼|WH-1000XM5|SONY 降噪头戴",
            "Bose|QC45|消噪耳机",
            "Apple|AirPods Max|苹果 头戴式",
            "森海塞尔|Momentum 4|Sennheiser",
            "漫步者|W820NB|EDIFIER 降噪",
            "铁三角|ATH-M50x|监听耳机",
            "Beats|Studio Pro|无线头戴",
        ],
    ),
    Leaf(
        "数码 > 电脑 > 笔记本电脑",
        "笔记本电脑",
        (2999, 19999),
        {"颜色": ["深空灰", "银色"], "配置": ["16GB+512GB", "32GB+1TB"]},
        [
            "Apple|MacBook Air 13|苹果 M3芯片 轻薄本",
            "Apple|MacBook Pro 14|苹果 M3 Pro 专业",
            "华为|MateBook X Pro|HUAWEI 轻薄商务",
            "联想|小新 Pro 16|Lenovo 高性能轻薄本",
            "联想|拯救者 Y9000P|Lenovo 电竞游戏本",
            "小米|Redmi Book Pro 15|红米 2.8K屏",
            "戴尔|XPS 13|DELL 超窄边框",
            "惠普|战66|HP 商务办公",
            "华硕|天选5|ASUS 游戏本",
            "荣耀|MagicBook 14|HONOR 轻薄",
        ],
    ),
    Leaf(
        "数码 > 电脑 > 平板电脑",
        "平板电脑",
        (999, 8999),
        {"颜色": ["灰色", "银色"], "容量": ["128GB", "256GB"]},
        [
            "Apple|iPad Air|苹果 M1 平板",
            "Apple|iPad Pro 11|苹果 M2 专业平板",
            "华为|MatePad Pro|HUAWEI 鸿蒙平板",
            "小米|平板6|Xiaomi Pad 6 2.8K",
            "联想|小新Pad Pro|Lenovo 学习平板",
            "荣耀|平板9|HONOR 护眼大屏",
        ],
    ),
    Leaf(
        "数码 > 智能设备 > 智能手表",
        "智能手表",
        (199, 5999),
        {"颜色": ["黑色", "银色", "粉色"]},
        [
            "Apple|Watch Series 9|苹果手表 血氧心率",
            "华为|Watch GT 4|HUAWEI 运动健康",
            "小米|手环8|Xiaomi 智能手环 心率",
            "华为|手环8|HUAWEI 轻薄手环",
            "佳明|Forerunner 265|Garmin 跑步手表",
            "OPPO|Watch 4 Pro|eSIM独立通话",
            "荣耀|手表4|HONOR 长续航",
        ],
    ),
    Leaf(
        "数码 > 影音 > 蓝牙音箱",
        "蓝牙音箱",
        (99, 2999),
        {"颜色": ["黑色", "蓝色"]},
        [
            "JBL|Charge 5|防水便携音箱",
            "小米|小爱音箱Pro|Xiaomi 智能音箱",
            "索尼|SRS-XB13|SONY 便携",
            "Bose|SoundLink Flex|户外防水",
            "漫步者|M230|EDIFIER 桌面音箱",
            "哈曼卡顿|琉璃4代|Harman Kardon",
        ],
    ),
    Leaf(
        "家电 > 大家电 > 空调",
        "空调",
        (1999, 7999),
        {"匹数": ["1匹", "1.5匹", "3匹"]},
        [
            "格力|云佳|GREE 新一级能效 变频冷暖挂机",
            "美的|酷省电|Midea 一级能效 变频挂机",
            "海尔|静悦|Haier 变频自清洁",
            "奥克斯|京裕|AUX 变频冷暖",
            "小米|巨省电|Xiaomi 米家空调",
            "TCL|小蓝翼|新一级能效",
            "海信|易省电|Hisense 变频",
        ],
    ),
    Leaf(
        "家电 > 大家电 > 冰箱",
        "冰箱",
        (1299, 9999),
        {"容量": ["400L", "500L"], "颜色": ["银色", "白色"]},
        [
            "海尔|十字对开门|Haier 风冷无霜 一级能效",
            "美的|法式多门|Midea 变频 净味",
            "西门子|KA92|SIEMENS 对开门",
            "容声|鲜净|Ronshen 十字门",
            "小米|米家冰箱|Xiaomi 风冷无霜",
            "卡萨帝|原石|Casarte 高端",
        ],
    ),
    Leaf(
        "家电 > 大家电 > 洗衣机",
        "洗衣机",
        (999, 6999),
        {"容量": ["10公斤", "12公斤"]},
        [
            "小天鹅|水魔方|LittleSwan 滚筒 洗烘一体",
            "海尔|纤美|Haier 直驱滚筒",
            "美的|元气轻氧|Midea 滚筒",
            "西门子|iQ300|SIEMENS 滚筒",
            "松下|白月光|Panasonic 洗烘一体",
            "TCL|T7H|超薄滚筒",
        ],
    ),
    Leaf(
        "家电 > 小家电 > 吹风机",
        "吹风机",
        (99, 3599),
        {"颜色": ["紫红色", "黑色", "白色"]},
        [
            "戴森|HD15|Dyson 电吹风 负离子",
            "松下|EH-NA9A|Panasonic 纳米水离子",
            "飞科|FH6232|FLYCO 大功率",
            "徕芬|SE|LAIFEN 高速吹风机",
            "小米|H500|米家 负离子 电吹风",
            "追觅|Pocket|dreame 折叠",
        ],
    ),
    Leaf(
        "家电 > 小家电 > 扫地机器人",
        "扫地机器人",
        (999, 5999),
        {"颜色": ["白色", "黑色"]},
        [
            "石头|G20|roborock 扫拖一体 自动集尘",
            "科沃斯|T20 Pro|ECOVACS 扫拖洗烘",
            "追觅|X30|dreame 全能基站",
            "云鲸|J4|NARWAL 拖地",
            "小米|米家扫拖机器人|Xiaomi 激光导航",
            "iRobot|Roomba i7|美国品牌",
        ],
    ),
    Leaf(
        "家电 > 厨房电器 > 电饭煲",
        "电饭煲",
        (99, 1999),
        {"容量": ["3L", "4L", "5L"]},
        [
            "美的|IH电饭煲|Midea 家用智能",
            "苏泊尔|球釜|SUPOR IH电饭锅",
            "九阳|F-40FY|Joyoung 多功能",
            "象印|NW-QAH10C|ZOJIRUSHI 压力IH",
            "小米|米家电饭煲|Xiaomi 智能预约",
            "虎牌|JPW-G10C|TIGER 土锅涂层",
        ],
    ),
    Leaf(
        "家电 > 厨房电器 > 空气炸锅",
        "空气炸锅",
        (199, 999),
        {"容量": ["5L", "6L"]},
        [
            "美的|炎烤|Midea 可视 空气炸锅",
            "九阳|KL50|Joyoung 无油",
            "小熊|QZG-E15|Bear 家用",
            "飞利浦|HD9252|PHILIPS 空气炸锅",
            "苏泊尔|KD50|SUPOR 可视",
        ],
    ),
    Leaf(
        "美妆个护 > 彩妆 > 口红",
        "口红",
        (99, 499),
        {"色号": ["#999 正红", "#888 豆沙", "#520 枫叶"]},
        [
            "迪奥|烈艳蓝金|Dior 唇膏 经典正红",
            "圣罗兰|小金条|YSL 哑光口红",
            "香奈儿|可可小姐|CHANEL 水亮唇膏",
            "阿玛尼|红管|Armani 丝绒唇釉",
            "MAC|子弹头|魅可 哑光",
            "完美日记|小细跟|Perfect Diary 国货",
            "花西子|雕花口红|Florasis 东方彩妆",
            "雅诗兰黛|倾慕|Estee Lauder 唇膏",
        ],
    ),
    Leaf(
        "美妆个护 > 护肤 > 面霜",
        "面霜",
        (99, 3999),
        {"规格": ["30ml", "50ml"]},
        [
            "兰蔻|菁纯面霜|Lancome 抗老 紧致",
            "雅诗兰黛|多效智妍面霜|Estee Lauder 保湿",
            "海蓝之谜|精华面霜|La Mer 修护",
            "珀莱雅|红宝石面霜|PROYA 抗皱",
            "薇诺娜|舒敏保湿特护霜|WINONA 敏感肌",
            "资生堂|悦薇面霜|Shiseido",
            "欧莱雅|复颜面霜|L'Oreal 玻尿酸",
        ],
    ),
    Leaf(
        "美妆个护 > 护肤 > 面膜",
        "面膜",
        (39, 399),
        {"规格": ["5片装", "10片装"]},
        [
            "SK-II|前男友面膜|SKII 护肤面膜",
            "敷尔佳|医用修复贴|补水 敏感肌",
            "欧莱雅|玻尿酸面膜|L'Oreal 补水保湿",
            "自然堂|喜马拉雅面膜|CHANDO 补水",
            "可复美|类人胶原蛋白敷料|修护",
            "美迪惠尔|N.M.F针剂水库面膜|Mediheal 韩国",
        ],
    ),
    Leaf(
        "美妆个护 > 洗护 > 洗发水",
        "洗发水",
        (29, 199),
        {"规格": ["400ml", "750ml"]},
        [
            "海飞丝|去屑洗发露|Head&Shoulders 清爽控油",
            "潘婷|氨基酸洗发水|PANTENE 修护",
            "沙宣|轻润洗发水|VS 专业",
            "阿道夫|精油洗发水|ADOLPH 留香",
            "施华蔻|多效修护洗发露|Schwarzkopf",
            "卡诗|双重功能洗发水|KERASTASE 高端",
        ],
    ),
    Leaf(
        "美妆个护 > 洗护 > 牙膏",
        "牙膏",
        (9, 99),
        {"规格": ["120g", "3支装"]},
        [
            "云南白药|牙膏|护龈 清新",
            "高露洁|全效牙膏|Colgate 美白",
            "舒适达|抗敏感牙膏|Sensodyne",
            "佳洁士|3D炫白|Crest 美白",
            "黑人|双重薄荷|DARLIE",
        ],
    ),
    Leaf(
        "服饰鞋包 > 男装 > 羽绒服",
        "羽绒服",
        (299, 2999),
        {"颜色": ["黑色", "藏青", "卡其"], "尺码": ["M", "L", "XL"]},
        [
            "波司登|极寒系列|BOSTANGI 鹅绒 加厚",
            "优衣库|轻型羽绒服|UNIQLO 便携",
            "雪中飞|连帽羽绒服|男士 保暖",
            "鸭鸭|短款羽绒服|YAYA 冬季",
            "李宁|运动羽绒服|LI-NING 户外",
            "安踏|保暖羽绒服|ANTA",
            "加拿大鹅|Expedition|Canada Goose 派克大衣",
        ],
    ),
    Leaf(
        "服饰鞋包 > 男装 > T恤",
        "T恤",
        (39, 299),
        {"颜色": ["白色", "黑色", "灰色"], "尺码": ["M", "L", "XL"]},
        [
            "优衣库|U系列圆领T恤|UNIQLO 纯棉 短袖",
            "李宁|运动T恤|LI-NING 速干",
            "耐克|Dri-FIT T恤|Nike 运动短袖",
            "阿迪达斯|三条纹T恤|adidas 经典",
            "海澜之家|纯棉短袖|HLA 男装",
            "森马|印花T恤|Semir 潮流",
        ],
    ),
    Leaf(
        "服饰鞋包 > 女装 > 连衣裙",
        "连衣裙",
        (99, 899),
        {"颜色": ["黑色", "碎花", "米白"], "尺码": ["S", "M", "L"]},
        [
            "ONLY|法式碎花连衣裙|夏季 收腰",
            "太平鸟|针织连衣裙|PEACEBIRD 秋冬",
            "乐町|雪纺连衣裙|LEDIN 仙女裙",
            "优衣库|印花连衣裙|UNIQLO 女装",
            "维沙曼|小黑裙|通勤 优雅",
            "Lily|职业连衣裙|商务 通勤",
        ],
    ),
    Leaf(
        "服饰鞋包 > 运动鞋 > 跑步鞋",
        "跑步鞋",
        (199, 1499),
        {"颜色": ["黑白", "荧光绿"], "尺码": ["40", "41", "42", "43"]},
        [
            "耐克|Pegasus 40|Nike 飞马 缓震运动鞋",
            "阿迪达斯|Ultraboost|adidas 爆米花 跑鞋",
            "李宁|飞电3|LI-NING 碳板 竞速",
            "安踏|C202|ANTA 马拉松 运动鞋",
            "特步|160X|XTEP 竞速跑鞋",
            "亚瑟士|Gel-Kayano 30|ASICS 稳定支撑",
            "新百伦|1080v13|New Balance 缓震",
            "361度|飞燃|361° 运动鞋",
        ],
    ),
    Leaf(
        "服饰鞋包 > 运动鞋 > 篮球鞋",
        "篮球鞋",
        (299, 1599),
        {"颜色": ["黑红", "白蓝"], "尺码": ["41", "42", "43", "44"]},
        [
            "耐克|LeBron 21|Nike 詹姆斯 球鞋",
            "李宁|韦德之道11|LI-NING 篮球鞋",
            "安踏|KT9|ANTA 汤普森",
            "阿迪达斯|Harden Vol.7|adidas 哈登",
            "匹克|态极闪电|PEAK 篮球鞋",
        ],
    ),
    Leaf(
        "服饰鞋包 > 箱包 > 双肩包",
        "双肩包",
        (99, 999),
        {"颜色": ["黑色", "灰色"]},
        [
            "新秀丽|商务双肩包|Samsonite 电脑包",
            "小米|极简都市双肩包|Xiaomi 防泼水",
            "耐克|Brasilia|Nike 运动背包",
            "北面|Borealis|The North Face 户外",
            "瑞士军刀|威戈|WENGER 电脑包",
        ],
    ),
    Leaf(
        "母婴 > 尿裤湿巾 > 纸尿裤",
        "纸尿裤",
        (79, 299),
        {"尺码": ["S", "M", "L", "XL"]},
        [
            "帮宝适|一级帮|Pampers 尿不湿 超薄透气",
            "花王|妙而舒|Merries 日本 尿不湿",
            "好奇|心钻装|Huggies 尿不湿",
            "大王|天使|GOO.N 纸尿裤",
            "babycare|皇室狮子王国|尿不湿 轻薄",
        ],
    ),
    Leaf(
        "母婴 > 奶粉 > 婴幼儿奶粉",
        "奶粉",
        (199, 599),
        {"段位": ["1段", "2段", "3段"]},
        [
            "飞鹤|星飞帆|FIRMUS 婴幼儿配方奶粉",
            "美赞臣|蓝臻|MeadJohnson 婴儿奶粉",
            "爱他美|卓萃|Aptamil",
            "惠氏|启赋|Wyeth illuma",
            "a2|至初|a2 Platinum 婴幼儿奶粉",
            "君乐宝|至臻|乐铂 国产奶粉",
        ],
    ),
    Leaf(
        "母婴 > 玩具 > 积木",
        "积木玩具",
        (49, 1999),
        {"规格": ["标准版"]},
        [
            "乐高|城市系列消防局|LEGO 拼装积木",
            "乐高|机械组保时捷|LEGO Technic",
            "布鲁可|大颗粒积木|BLOKS 儿童",
            "森宝|中国航天|积木拼装",
            "乐高|得宝动物火车|LEGO DUPLO 幼儿",
        ],
    ),
    Leaf(
        "家居日用 > 家纺 > 四件套",
        "床上四件套",
        (99, 1299),
        {"颜色": ["灰色", "米白", "藏蓝"], "尺寸": ["1.5米", "1.8米"]},
        [
            "水星家纺|纯棉四件套|全棉 床单被套",
            "罗莱|长绒棉四件套|LUOLAI 贡缎",
            "富安娜|天丝四件套|FUANNA 冰丝",
            "梦洁|60支四件套|MENDALE",
            "无印良品|水洗棉四件套|MUJI 日式",
            "网易严选|全棉四件套|简约",
        ],
    ),
    Leaf(
        "家居日用 > 清洁用品 > 洗衣液",
        "洗衣液",
        (19, 129),
        {"规格": ["2kg", "3kg×2"]},
        [
            "蓝月亮|深层洁净洗衣液|Bluemoon 薰衣草",
            "立白|除菌洗衣液|Liby 去渍",
            "奥妙|酵素洗衣液|OMO 除螨",
            "汰渍|全效洗衣液|Tide 洁净",
            "超能|天然皂粉洗衣液|植物",
        ],
    ),
    Leaf(
        "家居日用 > 纸品 > 抽纸",
        "抽纸",
        (19, 79),
        {"规格": ["24包", "30包"]},
        [
            "维达|超韧抽纸|Vinda 3层 面巾纸",
            "清风|原木纯品|Breeze 抽纸",
            "心相印|茶语抽纸|Hearttex",
            "洁柔|face抽纸|C&S 柔韧",
            "全棉时代|棉柔巾|Purcotton 一次性洗脸巾",
        ],
    ),
    Leaf(
        "食品生鲜 > 水果 > 柑橘",
        "",
        (19, 129),
        {"规格": ["3斤装", "5斤装", "10斤装"]},
        [
            "赣南|脐橙|江西赣州 新鲜橙子 当季水果",
            "褚橙|冰糖橙|云南 励志橙 甜橙",
            "广西|砂糖橘|新鲜 小橘子 桔子",
            "四川|耙耙柑|丑橘 新鲜柑橘",
            "浙江|沃柑|爆汁 桔子",
            "秭归|夏橙|湖北 橙子",
            "黄岩|蜜橘|台州 橘子",
        ],
    ),
    Leaf(
        "食品生鲜 > 水果 > 苹果",
        "",
        (29, 159),
        {"规格": ["5斤装", "10斤装"]},
        [
            "烟台|红富士苹果|山东 脆甜 新鲜水果",
            "阿克苏|冰糖心苹果|新疆 苹果",
            "洛川|苹果|陕西 脆甜",
            "静宁|苹果|甘肃 高原",
            "昭通|丑苹果|云南 冰糖心",
        ],
    ),
    Leaf(
        "食品生鲜 > 水果 > 热带水果",
        "",
        (29, 299),
        {"规格": ["3斤装", "5斤装"]},
        [
            "海南|金煌芒果|大芒果 新鲜",
            "泰国|金枕榴莲|进口 鲜果",
            "海南|妃子笑荔枝|新鲜荔枝",
            "智利|车厘子|进口 樱桃 JJ级",
            "攀枝花|凯特芒|四川 芒果",
        ],
    ),
    Leaf(
        "食品生鲜 > 零食 > 坚果",
        "",
        (29, 199),
        {"规格": ["500g", "1kg礼盒"]},
        [
            "三只松鼠|每日坚果|混合坚果 独立小包",
            "良品铺子|夏威夷果|奶油味 坚果",
            "百草味|碧根果|山核桃 零食",
            "洽洽|小黄袋每日坚果|ChaCheer",
            "三只松鼠|开心果|无漂白 坚果",
            "良品铺子|巴旦木|扁桃仁 零食",
        ],
    ),
    Leaf(
        "食品生鲜 > 零食 > 饼干糕点",
        "",
        (9, 99),
        {"规格": ["单盒", "整箱"]},
        [
            "奥利奥|夹心饼干|OREO 原味",
            "良品铺子|蛋黄酥|糕点 零食",
            "达利园|法式小面包|早餐 糕点",
            "好丽友|派|Orion 巧克力派",
            "三只松鼠|手撕面包|早餐",
        ],
    ),
    Leaf(
        "食品生鲜 > 乳品饮料 > 牛奶",
        "",
        (39, 129),
        {"规格": ["250ml×12盒", "250ml×24盒"]},
        [
            "伊利|金典纯牛奶|有机 高蛋白 乳品",
            "蒙牛|特仑苏纯牛奶|高端 乳品",
            "光明|优倍鲜牛奶|巴氏杀菌",
            "伊利|安慕希酸奶|希腊风味 常温酸奶",
            "蒙牛|纯甄酸奶|常温",
            "认养一头牛|纯牛奶|A2 乳品",
        ],
    ),
    Leaf(
        "食品生鲜 > 粮油调味 > 大米",
        "",
        (29, 199),
        {"规格": ["5kg", "10kg"]},
        [
            "五常|稻花香大米|东北 新米",
            "金龙鱼|东北大米|长粒香",
            "福临门|泰国茉莉香米|进口",
            "十月稻田|五常大米|当季新米",
        ],
    ),
    Leaf(
        "食品生鲜 > 粮油调味 > 食用油",
        "",
        (39, 199),
        {"规格": ["5L", "1.8L×2"]},
        [
            "金龙鱼|1:1:1调和油|食用油",
            "鲁花|5S压榨花生油|一级 花生油",
            "福临门|非转基因大豆油|食用油",
            "多力|葵花籽油|压榨",
        ],
    ),
    Leaf(
        "食品生鲜 > 酒水 > 白酒",
        "",
        (99, 2999),
        {"规格": ["500ml", "500ml×2礼盒"]},
        [
            "贵州茅台|飞天53度|酱香型 白酒",
            "五粮液|第八代|浓香型 52度",
            "汾酒|青花20|清香型",
            "洋河|梦之蓝M6|绵柔",
            "泸州老窖|国窖1573|浓香型",
        ],
    ),
    Leaf(
        "数码 > 摄影 > 微单相机",
        "微单相机",
        (3999, 19999),
        {"套装": ["单机身", "18-55mm套机"]},
        [
            "索尼|A7M4|SONY 全画幅 微单",
            "佳能|EOS R6 II|Canon 全画幅",
            "尼康|Z6III|Nikon 全画幅",
            "富士|X-T5|FUJIFILM 复古",
            "松下|S5M2|LUMIX 视频",
            "大疆|Pocket 3|DJI 口袋云台相机",
        ],
    ),
    Leaf(
        "数码 > 配件 > 充电宝",
        "充电宝",
        (59, 399),
        {"颜色": ["白色", "黑色"], "容量": ["10000mAh", "20000mAh"]},
        [
            "Anker|能量棒|安克 快充 移动电源",
            "小米|充电宝3|Xiaomi 22.5W 移动电源",
            "倍思|磁吸充电宝|Baseus 无线",
            "罗马仕|PD快充|ROMOSS 大容量",
            "华为|超级快充移动电源|HUAWEI 66W",
        ],
    ),
    Leaf(
        "家电 > 小家电 > 电动牙刷",
        "电动牙刷",
        (99, 1999),
        {"颜色": ["白色", "粉色", "黑色"]},
        [
            "飞利浦|钻石亮白|PHILIPS 声波 电动牙刷",
            "欧乐B|iO9|Oral-B 磁波",
            "usmile|Y10|笑容加 声波",
            "小米|T700|米家 电动牙刷",
            "舒客|G32|Saky 声波",
        ],
    ),
    Leaf(
        "美妆个护 > 香水 > 女士香水",
        "香水",
        (299, 1599),
        {"规格": ["30ml", "50ml", "100ml"]},
        [
            "香奈儿|可可小姐|CHANEL 淡香水",
            "迪奥|真我|Dior J'adore 浓香水",
            "祖玛珑|英国梨与小苍兰|Jo Malone",
            "古驰|花悦|GUCCI Bloom",
            "兰蔻|奇迹|Lancome Miracle",
        ],
    ),
    Leaf(
        "服饰鞋包 > 女装 > 毛衣",
        "毛衣",
        (99, 999),
        {"颜色": ["米白", "燕麦", "黑色"], "尺码": ["S", "M", "L"]},
        [
            "优衣库|羊毛针织衫|UNIQLO 圆领",
            "鄂尔多斯|山羊绒衫|ERDOS 羊绒",
            "太平鸟|慵懒风毛衣|PEACEBIRD",
            "ONLY|麻花毛衣|冬季 加厚",
            "无印良品|美利奴羊毛衫|MUJI",
        ],
    ),
    Leaf(
        "母婴 > 童装 > 儿童羽绒服",
        "儿童羽绒服",
        (199, 999),
        {"颜色": ["红色", "藏青"], "尺码": ["110", "120", "130"]},
        [
            "巴拉巴拉|儿童羽绒服|balabala 加厚 保暖",
            "安踏儿童|连帽羽绒服|ANTA KIDS",
            "波司登|儿童羽绒服|BOSIDENG 童装",
            "小猪班纳|中长款|童装 冬季",
            "戴维贝拉|轻薄羽绒服|davebella 宝宝",
        ],
    ),
    Leaf(
        "家居日用 > 厨具 > 炒锅",
        "炒锅",
        (99, 899),
        {"尺寸": ["30cm", "32cm"]},
        [
            "苏泊尔|火红点不粘锅|SUPOR 炒锅",
            "爱仕达|铁锅|ASD 无涂层",
            "双立人|不锈钢炒锅|ZWILLING",
            "章丘|手工铁锅|传统 老铁锅",
            "炊大皇|麦饭石炒锅|不粘",
        ],
    ),
    Leaf(
        "食品生鲜 > 肉禽蛋 > 牛肉",
        "",
        (59, 399),
        {"规格": ["1kg", "2kg"]},
        [
            "科尔沁|原切牛腱子|内蒙古 牛肉",
            "恒都|澳洲牛排|原切 西冷",
            "大庄园|牛腩|新鲜 炖煮",
            "伊赛|谷饲牛腩|牛肉",
            "天莱香牛|有机牛肉|新疆",
        ],
    ),
    Leaf(
        "食品生鲜 > 茶饮 > 茶叶",
        "",
        (59, 999),
        {"规格": ["100g", "250g礼盒"]},
        [
            "西湖|龙井|明前 绿茶 茶叶",
            "安溪|铁观音|乌龙茶 清香型",
            "武夷山|大红袍|岩茶",
            "云南|普洱茶饼|熟茶 357g",
            "福鼎|白茶|白牡丹 老白茶",
            "祁门|红茶|祁红 工夫茶",
        ],
    ),
    Leaf(
        "运动户外 > 健身 > 瑜伽垫",
        "瑜伽垫",
        (39, 399),
        {"颜色": ["紫色", "蓝色", "粉色"], "厚度": ["6mm", "10mm"]},
        [
            "Keep|TPE瑜伽垫|防滑 加厚",
            "迪卡侬|瑜伽垫|DECATHLON 入门",
            "Lululemon|The Mat 5mm|天然橡胶",
            "李宁|健身垫|LI-NING 加宽",
            "奥义|双色瑜伽垫|防滑",
        ],
    ),
    Leaf(
        "运动户外 > 户外 > 帐篷",
        "帐篷",
        (199, 2999),
        {"颜色": ["军绿", "卡其"], "人数": ["2人", "4人"]},
        [
            "牧高笛|冷山|MOBI GARDEN 露营帐篷",
            "迪卡侬|速开帐篷|DECATHLON 2秒帐",
            "骆驼|自动帐篷|CAMEL 户外",
            "挪客|云尚|Naturehike 轻量化",
            "探路者|露营帐篷|TOREAD 防雨",
            "黑鹿|天幕|BLACKDEER 户外天幕",
        ],
    ),
    Leaf(
        "运动户外 > 骑行 > 自行车",
        "自行车",
        (599, 9999),
        {"颜色": ["黑色", "白色"], "尺寸": ["S", "M"]},
        [
            "捷安特|ATX 830|GIANT 山地车",
            "美利达|勇士|MERIDA 山地自行车",
            "喜德盛|逐日|XDS 公路车",
            "迪卡侬|RC500|公路自行车",
            "凤凰|复古通勤车|Phoenix 城市",
        ],
    ),
]


def demo_rows(seed: int = 20261124) -> Iterator[dict[str, str]]:
    """Every SKU row of the demo catalog, in the importer's format."""
    rng = random.Random(seed)
    number = 0
    for leaf in LEAVES:
        for item in leaf.items:
            number += 1
            yield from _product_rows(rng, number, leaf, item)


def _product_rows(rng: random.Random, number: int, leaf: Leaf, item: str) -> Iterator[dict[str, str]]:
    brand, model, subtitle = item.split("|")
    spu = f"D{number:04d}"
    title = f"{brand} {model} {leaf.suffix}".strip()
    base = rng.randint(*leaf.price)
    # Two axes at most, each trimmed to a few values: a handful of SKUs per product.
    axes = {
        name: values[: rng.randint(max(1, len(values) - 1), len(values))]
        for name, values in leaf.axes.items()
    }
    status = "draft" if number % 41 == 0 else "on_sale"
    merchant = SECOND_MERCHANT if number % 3 == 0 else ""
    images = " ".join(f"https://img.example.com/demo/{spu}/{i}.jpg" for i in (1, 2, 3))
    names = list(axes)
    for index, combo in enumerate(combinations(*axes.values()), start=1):
        specs = dict(zip(names, combo, strict=True))
        step = sum(list(axes[name]).index(value) for name, value in specs.items())
        price = base + step * max(1, base // 8)
        single_sku = len(names) == 1 and len(axes[names[0]]) == 1
        yield {
            "category": leaf.path,
            "spu_code": spu,
            "title": title,
            "subtitle": subtitle,
            "specs": "" if single_sku else ";".join(f"{k}:{v}" for k, v in specs.items()),
            "sku_code": f"{spu}-{index:02d}",
            "price": f"{price - 0.1:.2f}" if price > 50 else f"{price:.2f}",
            "market_price": f"{price * 1.2:.2f}" if index % 2 else "",
            "stock": str(0 if rng.random() < 0.08 else rng.randint(5, 500)),
            "images": images,
            "status": status,
            "merchant": merchant,
        }
