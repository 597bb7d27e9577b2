"""The two-level grievance taxonomy (group → category), defined once (reply periods are deadline rules: portal.services.sla).

Codes are stored on tickets; labels are translated for display. The keywords let the form suggest a
category while the worker types (never forcing one).
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.i18n import lazy_gettext as _l
from portal.models import Kind

KIND_LABELS = {
    Kind.CONSULTATION: _l("Consultation"),
    Kind.SUGGESTION: _l("Suggestion"),
    Kind.HELP: _l("Request for help"),
    Kind.APPEAL: _l("Appeal or complaint"),
}
KIND_DESCRIPTIONS = {
    Kind.CONSULTATION: _l("Questions about labour law, contracts, pay or insurance."),
    Kind.SUGGESTION: _l("Ideas for the union's work and services."),
    Kind.HELP: _l("Hardship, psychological or legal help for you or your family."),
    Kind.APPEAL: _l("Unpaid wages, dismissal, work injury, overtime and other disputes."),
}


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    code: str
    label: str
    categories: tuple[Category, ...]


TAXONOMY = (
    Group("labour", _l("Labour relations"), (
        Category("labour.contract", _l("Labour contract dispute"), ("合同", "劳动合同", "试用期", "签合同", "违约金")),
        Category("labour.wages", _l("Unpaid wages"), ("拖欠", "欠薪", "工资", "工钱", "讨薪", "克扣", "结算")),
        Category("labour.dismissal", _l("Dismissal"), ("辞退", "开除", "解雇", "裁员", "解除", "补偿金")),
        Category("labour.hours", _l("Working hours and overtime"), ("加班", "加班费", "工时", "休息", "调休",
                                                                   "年假")),
    )),
    Group("security", _l("Social security"), (
        Category("security.injury", _l("Work injury"), ("工伤", "受伤", "摔伤", "事故", "职业病", "伤残")),
        Category("security.insurance", _l("Social insurance"), ("社保", "五险", "养老", "医保", "公积金",
                                                               "失业")),
    )),
    Group("support", _l("Help and support"), (
        Category("support.psychological", _l("Psychological help"), ("心理", "压力", "焦虑", "失眠", "抑郁")),
        Category("support.hardship", _l("Hardship help"), ("困难", "救助", "生病", "看病", "子女", "上学",
                                                          "帮扶")),
    )),
    Group("other", _l("Other"), (
        Category("other.union", _l("The union's work"), ("工会", "入会", "会员", "驿站")),
        Category("other.other", _l("Other")),
    )),
)

CATEGORIES = {c.code: c for g in TAXONOMY for c in g.categories}


def group_of(category_code: str) -> Group:
    return next(g for g in TAXONOMY if category_code in {c.code for c in g.categories})
