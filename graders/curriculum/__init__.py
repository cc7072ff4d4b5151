"""graders.curriculum"""
