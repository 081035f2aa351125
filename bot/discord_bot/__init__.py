"""The Discord bot: start-up, one cog per feature, message formatting, who may ask, feedback votes.

Nothing here is imported by the other front ends or by the rooms below them (the votes it records go
to the questions log, which `citebot feedback` reads).
"""
