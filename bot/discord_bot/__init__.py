"""The Discord bot: start-up, one cog per feature, message formatting, who may ask, feedback votes.

Nothing here is imported by the other front ends except ``feedback_log`` (`citebot feedback`).
"""
