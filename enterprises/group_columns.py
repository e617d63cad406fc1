"""The spreadsheet columns of an enterprise's group (所属集团), for the register's import
template and export.

The export builds its rows by column key, so it carries these columns as soon as
``importers.ENTERPRISE_COLUMNS`` lists them (template, import and export keep one header list:
an export re-imports). Until the import reads them, the export leaves them out rather than
write columns an import of the same file would silently ignore.
"""

from core.spreadsheets import Column

GROUP_COLUMNS = [
    Column(
        "group_name",
        "所属集团",
        required=False,
        aliases=("集团", "所属集团名称", "集团名称"),
        width=30,
        note="集团（母公司）名称，同一集团的企业须填写完全相同的名称（回避申报按此名称匹配）；可空",
    ),
    Column(
        "group_uscc",
        "集团统一社会信用代码",
        required=False,
        aliases=("集团信用代码",),
        halfwidth=True,
        width=22,
        note="集团（母公司）的18位统一社会信用代码；可空；填写时须同时填写所属集团",
    ),
]
