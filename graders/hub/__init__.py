"""graders.hub"""
