"""The two-level grievance taxonomy (group → category), defined once (reply periods are deadline rules: sla).

Codes are stored on tickets; their display names are portal.vocabulary's GROUP_LABELS and CATEGORY_LABELS. The
keywords let the form suggest a category while the worker types (never forcing one).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    code: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    code: str
    categories: tuple[Category, ...]


TAXONOMY = (
    Group("labour", (
        Category("labour.contract", ("合同", "劳动合同", "试用期", "签合同", "违约金")),
        Category("labour.wages", ("拖欠", "欠薪", "工资", "工钱", "讨薪", "克扣", "结算")),
        Category("labour.dismissal", ("辞退", "开除", "解雇", "裁员", "解除", "补偿金")),
        Category("labour.hours", ("加班", "加班费", "工时", "休息", "调休", "年假")),
    )),
    Group("security", (
        Category("security.injury", ("工伤", "受伤", "摔伤", "事故", "职业病", "伤残")),
        Category("security.insurance", ("社保", "五险", "养老", "医保", "公积金", "失业")),
    )),
    Group("support", (
        Category("support.psychological", ("心理", "压力", "焦虑", "失眠", "抑郁")),
        Category("support.hardship", ("困难", "救助", "生病", "看病", "子女", "上学", "帮扶")),
    )),
    Group("other", (
        Category("other.union", ("工会", "入会", "会员", "驿站")),
        Category("other.other"),
    )),
)

CATEGORIES = {c.code: c for g in TAXONOMY for c in g.categories}


def group_of(category_code: str) -> Group:
    return next(g for g in TAXONOMY if category_code in {c.code for c in g.categories})
