"""Synthetic but realistic news text in en / zh-Hant / zh-Hans / ja for the generated web.

Sentences are assembled from independent phrase lists (subject × action × detail × tail), with
random figures, so two articles share few 3-shingles by chance: near-duplicates in the generated
web are only the syndicated copies made on purpose. On-topic articles name watched models by
their aliases in the page's script; off-topic ones name none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Bank:
    models: tuple[str, ...]
    subjects: tuple[str, ...]
    actions: tuple[str, ...]
    details: tuple[str, ...]
    tails: tuple[str, ...]
    off_subjects: tuple[str, ...]
    off_actions: tuple[str, ...]
    off_details: tuple[str, ...]
    title_on: tuple[str, ...]
    title_off: tuple[str, ...]
    joiner: str  # between sentences
    stop: str  # sentence end


EN = Bank(
    models=("Qwen", "Qwen3", "DeepSeek", "Llama 4", "Gemini", "Claude", "ChatGPT", "Tongyi Qianwen"),
    subjects=("Analysts at {org}", "Engineers testing {model}", "A spokesperson for {org}", "Developers in {city}",
              "Early benchmark results for {model}", "Several cloud providers", "Researchers at {uni}",
              "Enterprise customers in {city}", "The open-weights release of {model}", "Investors tracking {org}",
              "A report from {org}", "Start-ups building on {model}"),
    actions=("said the new version cut inference costs by {n} percent", "reported a {n}-point gain on coding tasks",
             "expect wider adoption across {sector} within {m} months",
             "noted that context windows now reach {n} thousand tokens",
             "compared the model against rivals on {m} public leaderboards",
             "warned that export controls could slow deployment in {city}",
             "announced a partnership worth {n} million dollars",
             "published a technical report running to {n} pages",
             "found latency dropped to {m}0 milliseconds per request",
             "said pricing would fall to {m} cents per million tokens"),
    details=("according to figures released on {weekday}", "in a filing seen by reporters",
             "during a briefing in {city}", "after weeks of internal testing", "citing data from {org}",
             "in an interview on {weekday}", "as competition in {sector} intensifies",
             "ahead of a developer conference in {city}", "following a surge of downloads",
             "while regulators in {city} review the market"),
    tails=("", "", ", a figure that surprised many observers", ", up from last quarter",
           ", though details remain scarce", ", the company said", ", people familiar with the matter said"),
    off_subjects=("The city council of {city}", "Local farmers", "The national weather service", "Fans in {city}",
                  "A museum in {city}", "Commuters on the {m} line", "The football club", "Retail sales"),
    off_actions=("approved a budget of {n} million dollars for new parks", "reported a harvest {n} percent larger",
                 "forecast heavy rain for the next {m} days", "celebrated a {m}-{n} victory",
                 "opened an exhibition of {n} historic maps", "faced delays of up to {m}0 minutes",
                 "signed a striker for {n} million euros", "rose {m} percent in the holiday season"),
    off_details=("officials said on {weekday}", "according to local media", "despite the cold weather",
                 "in a statement on {weekday}", "after a long public debate"),
    title_on=("{model} update draws attention from {sector}", "What {model} means for {sector}",
              "{org} bets on {model} as AI race heats up", "{model} tops {m} leaderboards, analysts say"),
    title_off=("{city} prepares for a busy weekend", "Weather service issues warning for {city}",
               "Club wins again in {city}", "Museum in {city} reopens after renovation"),
    joiner=" ", stop=".",
)

ZH_HANT = Bank(
    models=("通義千問", "千問", "Qwen", "深度求索", "DeepSeek", "Gemini", "Claude", "ChatGPT"),
    subjects=("{org}分析師", "測試{model}的工程師", "{org}發言人", "{city}的開發者", "{model}的最新評測",
              "多家雲端服務商", "{uni}研究團隊", "{city}企業客戶", "{model}開源版本", "追蹤{org}的投資人"),
    actions=("表示新版本推論成本降低{n}%", "指出程式任務分數提高{n}分", "預期{m}個月內在{sector}普及",
             "說明上下文長度已達{n}千個詞元", "在{m}個公開排行榜上比較各家模型", "警告出口管制可能拖慢{city}部署",
             "宣布一項價值{n}億元的合作", "發布長達{n}頁的技術報告", "發現每次請求延遲降至{m}0毫秒",
             "稱每百萬詞元價格將降至{m}元"),
    details=("根據{weekday}公布的數據", "在提交給監管機關的文件中", "在{city}舉行的簡報會上", "經過數週內部測試後",
             "引述{org}的資料", "在{weekday}接受專訪時", "隨著{sector}競爭加劇", "在{city}開發者大會前夕",
             "在下載量激增之後", "正值{city}主管機關審視市場之際"),
    tails=("", "", "，令不少觀察人士意外", "，較上一季成長", "，但細節仍不多", "，公司表示", "，知情人士透露"),
    off_subjects=("{city}市議會", "當地農民", "中央氣象署", "{city}球迷", "{city}一間博物館", "通勤族", "職棒球隊",
                  "零售業者"),
    off_actions=("通過{n}億元新公園預算", "表示今年收成增加{n}%", "預報未來{m}天將有豪雨", "以{m}比{n}贏得比賽",
                 "展出{n}幅古地圖", "面臨最長{m}0分鐘的延誤", "以{n}萬元簽下新外援", "年節銷售成長{m}%"),
    off_details=("官員{weekday}表示", "據當地媒體報導", "儘管天氣寒冷", "在{weekday}發布的聲明中", "經過長時間討論後"),
    title_on=("{model}更新引發{sector}關注", "{model}對{sector}意味著什麼", "{org}押注{model}　AI競賽升溫",
              "{model}登上{m}個排行榜榜首"),
    title_off=("{city}迎接熱鬧週末", "氣象署對{city}發布警報", "球隊在{city}再奪勝利", "{city}博物館整修後重新開放"),
    joiner="", stop="。",
)

ZH_HANS = Bank(
    models=("通义千问", "千问", "Qwen", "深度求索", "DeepSeek", "Gemini", "Claude", "ChatGPT"),
    subjects=("{org}分析师", "测试{model}的工程师", "{org}发言人", "{city}的开发者", "{model}的最新评测",
              "多家云服务商", "{uni}研究团队", "{city}企业客户", "{model}开源版本", "关注{org}的投资者"),
    actions=("表示新版本推理成本降低{n}%", "指出编程任务得分提高{n}分", "预计{m}个月内在{sector}普及",
             "说明上下文长度已达{n}千个token", "在{m}个公开榜单上比较各家模型", "警告出口管制可能拖慢{city}部署",
             "宣布一项价值{n}亿元的合作", "发布长达{n}页的技术报告", "发现每次请求延迟降至{m}0毫秒",
             "称每百万token价格将降至{m}元"),
    details=("根据{weekday}公布的数据", "在提交给监管机构的文件中", "在{city}举行的发布会上", "经过数周内部测试后",
             "援引{org}的数据", "在{weekday}接受专访时", "随着{sector}竞争加剧", "在{city}开发者大会前夕",
             "在下载量激增之后", "正值{city}监管部门审视市场之际"),
    tails=("", "", "，令不少观察人士意外", "，较上一季度增长", "，但细节仍然不多", "，公司表示", "，知情人士透露"),
    off_subjects=("{city}市政府", "当地农民", "国家气象中心", "{city}球迷", "{city}一家博物馆", "通勤族", "足球俱乐部",
                  "零售企业"),
    off_actions=("通过{n}亿元新公园预算", "表示今年收成增加{n}%", "预报未来{m}天将有暴雨", "以{m}比{n}赢得比赛",
                 "展出{n}幅古地图", "面临最长{m}0分钟的延误", "以{n}万元签下新外援", "春节销售增长{m}%"),
    off_details=("官员{weekday}表示", "据当地媒体报道", "尽管天气寒冷", "在{weekday}发布的声明中", "经过长时间讨论后"),
    title_on=("{model}更新引发{sector}关注", "{model}对{sector}意味着什么", "{org}押注{model} AI竞赛升温",
              "{model}登上{m}个榜单榜首"),
    title_off=("{city}迎来热闹周末", "气象中心对{city}发布预警", "球队在{city}再获胜利", "{city}博物馆整修后重新开放"),
    joiner="", stop="。",
)

JA = Bank(
    models=("通義千問", "クウェン", "Qwen", "DeepSeek", "Gemini", "Claude", "ChatGPT"),
    subjects=("{org}のアナリスト", "{model}を試験した技術者", "{org}の広報担当者", "{city}の開発者",
              "{model}の最新ベンチマーク", "複数のクラウド事業者", "{uni}の研究チーム", "{city}の企業顧客",
              "{model}のオープン版", "{org}を追う投資家"),
    actions=("は新版で推論コストが{n}%下がったと述べた", "はコーディング課題で{n}ポイント向上したと報告した",
             "は{m}か月以内に{sector}で普及すると見込む", "はコンテキスト長が{n}千トークンに達したと説明した",
             "は{m}つの公開ランキングで各社のモデルを比較した", "は輸出規制が{city}での展開を遅らせると警告した",
             "は{n}億円規模の提携を発表した", "は{n}ページに及ぶ技術報告を公開した",
             "は1リクエストあたりの遅延が{m}0ミリ秒に下がったとした",
             "は100万トークンあたりの価格が{m}円になると述べた"),
    details=("{weekday}に公表されたデータによると", "規制当局への提出書類で", "{city}での説明会で",
             "数週間の社内試験の後",
             "{org}のデータを引用して", "{weekday}のインタビューで", "{sector}の競争が激しくなる中",
             "{city}の開発者会議を前に", "ダウンロード数が急増した後で", "{city}の当局が市場を調べる中"),
    tails=("", "", "。多くの関係者が驚いた", "。前の四半期から増えた", "。詳細はまだ少ない", "。同社が明らかにした"),
    off_subjects=("{city}市議会", "地元の農家", "気象庁", "{city}のファン", "{city}の博物館", "通勤客",
                  "サッカークラブ", "小売各社"),
    off_actions=("は{n}億円の公園予算を承認した", "は収穫が{n}%増えたと報告した", "は今後{m}日間の大雨を予報した",
                 "は{m}対{n}で勝利した", "は古地図{n}点の展示を始めた", "は最大{m}0分の遅れに直面した",
                 "は{n}万ユーロで新選手と契約した", "は年末商戦で売上が{m}%伸びた"),
    off_details=("当局が{weekday}に明らかにした", "地元メディアによると", "寒さにもかかわらず", "{weekday}の声明で",
                 "長い議論の末"),
    title_on=("{model}の更新に{sector}が注目", "{model}が{sector}にもたらすもの", "{org}が{model}に賭けるAI競争",
              "{model}が{m}つのランキングで首位"),
    title_off=("{city}で週末のにぎわい", "気象庁が{city}に警報", "{city}でクラブが連勝",
               "{city}の博物館が改装後に再開"),
    joiner="", stop="。",
)

BANKS = {"en": EN, "zh-Hant": ZH_HANT, "zh-Hans": ZH_HANS, "ja": JA}
FILLERS = {
    "org": ("Alibaba Cloud", "Morgan Stanley", "Gartner", "IDC", "Nomura", "Counterpoint", "TrendForce",
            "Hugging Face"),
    "city": ("Taipei", "Hangzhou", "Tokyo", "Shenzhen", "Singapore", "Hong Kong", "Osaka", "Beijing", "Seoul"),
    "uni": ("Tsinghua", "NTU", "Kyoto University", "Peking University", "HKUST", "Zhejiang University"),
    "sector": ("finance", "healthcare", "e-commerce", "manufacturing", "education", "logistics", "gaming"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
}
# Per-language fillers where English names would look wrong inside CJK prose.
CJK_FILLERS = {
    "zh-Hant": {"city": ("台北", "杭州", "東京", "深圳", "新加坡", "香港", "大阪", "北京", "首爾"),
                "sector": ("金融業", "醫療業", "電商", "製造業", "教育界", "物流業", "遊戲業"),
                "weekday": ("週一", "週二", "週三", "週四", "週五"),
                "org": ("阿里雲", "摩根士丹利", "顧能", "IDC", "野村", "集邦科技", "Hugging Face"),
                "uni": ("清華大學", "台灣大學", "京都大學", "北京大學", "浙江大學")},
    "zh-Hans": {"city": ("台北", "杭州", "东京", "深圳", "新加坡", "香港", "大阪", "北京", "首尔"),
                "sector": ("金融业", "医疗业", "电商", "制造业", "教育界", "物流业", "游戏业"),
                "weekday": ("周一", "周二", "周三", "周四", "周五"),
                "org": ("阿里云", "摩根士丹利", "高德纳", "IDC", "野村", "集邦咨询", "Hugging Face"),
                "uni": ("清华大学", "台湾大学", "京都大学", "北京大学", "浙江大学")},
    "ja": {"city": ("台北", "杭州", "東京", "深圳", "シンガポール", "香港", "大阪", "北京", "ソウル"),
           "sector": ("金融業界", "医療業界", "EC業界", "製造業", "教育分野", "物流業界", "ゲーム業界"),
           "weekday": ("月曜", "火曜", "水曜", "木曜", "金曜"),
           "org": ("アリババクラウド", "モルガン・スタンレー", "ガートナー", "IDC", "野村", "Hugging Face"),
           "uni": ("清華大学", "台湾大学", "京都大学", "北京大学", "浙江大学")},
}


def _fill(template: str, rng: random.Random, language: str, model: str) -> str:
    pools = {**FILLERS, **CJK_FILLERS.get(language, {})}
    values = {key: rng.choice(pool) for key, pool in pools.items()}
    return template.format(model=model, n=rng.randint(11, 980), m=rng.randint(2, 9), **values)


def sentence(rng: random.Random, language: str, on_topic: bool, model: str) -> str:
    bank = BANKS[language]
    if on_topic:
        parts = (rng.choice(bank.subjects), rng.choice(bank.actions), rng.choice(bank.details), rng.choice(bank.tails))
    else:
        parts = (rng.choice(bank.off_subjects), rng.choice(bank.off_actions), rng.choice(bank.off_details), "")
    if language == "en":
        text = f"{parts[0]} {parts[1]} {parts[2]}{parts[3]}"
    elif language == "ja":
        text = f"{parts[2]}、{parts[0]}{parts[1]}{parts[3]}"
    else:
        text = f"{parts[2]}，{parts[0]}{parts[1]}{parts[3]}"
    return _fill(text, rng, language, model) + bank.stop


def article(rng: random.Random, language: str, on_topic: bool) -> tuple[str, list[str]]:
    """(title, paragraphs) of one article."""
    bank = BANKS[language]
    model = rng.choice(bank.models)
    title = _fill(rng.choice(bank.title_on if on_topic else bank.title_off), rng, language, model)
    paragraphs = []
    for _ in range(rng.randint(6, 11)):
        # Off-topic pages stay off-topic throughout; on-topic ones mix in everyday sentences.
        sentences = [sentence(rng, language, on_topic and rng.random() < 0.85, rng.choice(bank.models))
                     for _ in range(rng.randint(2, 4))]
        paragraphs.append(bank.joiner.join(sentences))
    return title, paragraphs
