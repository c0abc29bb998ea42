from .complexity import Complexity, count_complexity

__all__ = ["Complexity", "count_complexity"]
