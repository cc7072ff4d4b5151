"""graders.programme"""
